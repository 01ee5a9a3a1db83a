"""Child processes that never outlive their caller, and a free local port to serve on.

Every command starts in a new session, i.e. its own process group, so stopping it
stops what it started too (`uv run` starts Python, which may start more). The gates
and the benchmark both run their commands through here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

__all__ = ["finish", "free_port", "start", "stop"]


def start(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout: int | IO[Any] = subprocess.PIPE,
    stderr: int | IO[Any] = subprocess.PIPE,
) -> subprocess.Popen[str]:
    """Start *command* in its own process group, with no input and text output.

    ``uv`` is started by its real path (see :func:`apiforge.tools.find_uv`). Raises
    :class:`OSError` when the program cannot be started.
    """
    if command and command[0] == "uv":
        from apiforge.tools import find_uv

        command = [find_uv(), *command[1:]]
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=stderr,
        text=True,
        errors="replace",
        start_new_session=True,
    )


def finish(process: subprocess.Popen[str], *, timeout: float | None = None) -> tuple[str, str]:
    """Wait for *process* started by :func:`start`; return its stdout and stderr.

    On a timeout (:class:`subprocess.TimeoutExpired`), an error or Ctrl-C the whole
    group is killed before the exception goes on.
    """
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except BaseException:
        _signal_group(process, signal.SIGKILL)
        process.wait()
        raise
    return stdout, stderr


def stop(processes: Iterable[subprocess.Popen[Any]], *, grace: float) -> None:
    """Stop each process's group: SIGTERM, then SIGKILL after *grace* seconds in all."""
    running = list(processes)
    for process in running:
        _signal_group(process, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()


def _signal_group(process: subprocess.Popen[Any], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on at the moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
