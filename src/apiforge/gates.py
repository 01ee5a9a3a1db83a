"""The gates a generated project must pass, and running them.

`apiforge verify` and apiforge's own tests both call :func:`run_gates`, so CI
proves the template with exactly the commands a team would run.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from apiforge import processes
from apiforge.errors import Interrupted, UserError
from apiforge.tools import find_uv

__all__ = [
    "GATES",
    "Cancellation",
    "Gate",
    "GateResult",
    "check_tools",
    "find_python",
    "project_env",
    "run_gates",
]


@dataclass(frozen=True)
class Gate:
    """A named check made of commands run in order inside the project."""

    name: str
    commands: tuple[tuple[str, ...], ...]


GATES: tuple[Gate, ...] = (
    Gate("install", (("uv", "sync", "--locked", "--quiet"),)),
    Gate("tests", (("uv", "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"),)),
    Gate("lint", (("uv", "run", "--no-sync", "ruff", "check", "."),)),
    Gate("format", (("uv", "run", "--no-sync", "ruff", "format", "--check", "."),)),
    Gate("types", (("uv", "run", "--no-sync", "mypy", "."),)),
    Gate(
        "migrations",
        (
            ("uv", "run", "--no-sync", "alembic", "upgrade", "head"),
            ("uv", "run", "--no-sync", "alembic", "downgrade", "base"),
            ("uv", "run", "--no-sync", "alembic", "upgrade", "head"),
            ("uv", "run", "--no-sync", "alembic", "check"),
        ),
    ),
)


@dataclass(frozen=True)
class GateResult:
    name: str
    ok: bool
    seconds: float
    output: str
    command: str


@functools.cache
def find_python(version: str) -> str | None:
    """An interpreter for *version* ("3.12") on this machine, or None.

    It looks on PATH, then in pyenv's versions (newest patch release first), and
    only returns an interpreter that runs and reports that version: pyenv's shims
    are on PATH for every installed version but fail for those pyenv has not
    activated, and uv cannot use them.
    """
    candidates: list[Path] = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        candidates.append(Path(on_path))
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(
        pyenv_root.glob(f"versions/{version}.*/bin/python{version}"),
        key=lambda path: _release(path.parent.parent.name),
        reverse=True,
    )
    for candidate in candidates:
        found = _interpreter(candidate, version)
        if found:
            return found
    return None


def _release(name: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in name.split("."))


_REPORT_VERSION = "import sys; print('%d.%d' % sys.version_info[:2], sys.executable)"


def _interpreter(python: Path, version: str) -> str | None:
    """The real executable behind *python* (a shim, a link) if it runs *version*."""
    try:
        completed = subprocess.run(
            [str(python), "-c", _REPORT_VERSION],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
            cwd=Path.home(),
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    reported, _, executable = completed.stdout.strip().partition(" ")
    if completed.returncode != 0 or reported != version:
        return None
    return executable or str(python)


def project_env(
    extra: Mapping[str, str] | None = None, python: str | None = None
) -> dict[str, str]:
    """The environment for commands in a generated project.

    It drops the variables of whatever virtual environment apiforge runs in, keeps
    uv's shared cache, and never lets uv download an interpreter.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "UV_PYTHON"}
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    # Byte-compile once at install: every later gate starts Python several times, and
    # where PYTHONDONTWRITEBYTECODE is set each start would compile FastAPI afresh.
    env.setdefault("UV_COMPILE_BYTECODE", "1")
    env.pop("DATABASE_URL", None)
    env.pop("TEST_DATABASE_URL", None)
    if python:
        env["UV_PYTHON"] = python
    env.update(extra or {})
    return env


class Cancellation:
    """A switch that stops running gates from another thread (Ctrl-C, `verify`).

    Every command runs in its own process group. :meth:`cancel` kills the groups
    that are running and keeps new commands from starting; the threads running
    them then raise :class:`Interrupted`.
    """

    GRACE_SECONDS = 5.0

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen[str]] = set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`Interrupted` once :meth:`cancel` was called."""
        if self._event.is_set():
            raise Interrupted("Interrupted.")

    def cancel(self) -> None:
        """Stop every running command (SIGTERM, then SIGKILL) and refuse new ones."""
        self._event.set()
        with self._lock:
            running = list(self._running)
        processes.stop(running, grace=self.GRACE_SECONDS)

    def run(self, command: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> tuple[int, str]:
        """Run *command*; return its exit code and its output (stdout, then stderr)."""
        with self._lock:
            self.check()
            try:
                process = processes.start(command, cwd=cwd, env=env)
            except OSError as exc:
                return 127, f"{command[0]}: {exc.strerror or exc}\n"
            self._running.add(process)
        try:
            stdout, stderr = processes.finish(process)
        finally:
            with self._lock:
                self._running.discard(process)
        self.check()
        return process.returncode, f"{stdout}{stderr}"


def check_tools(gates: Sequence[Gate]) -> None:
    """Raise :class:`UserError` when a program the gates run is not installed."""
    for program in dict.fromkeys(command[0] for gate in gates for command in gate.commands):
        if program == "uv":
            find_uv()
        elif shutil.which(program) is None:
            raise UserError(f"{program} is not installed; the gates need it.")


def run_gates(
    project: Path,
    *,
    env: Mapping[str, str],
    gates: Sequence[Gate] = GATES,
    on_result: Callable[[GateResult], None] | None = None,
    stop_on_failure: bool = True,
    cancellation: Cancellation | None = None,
) -> list[GateResult]:
    """Run *gates* in *project*; stop at the first failure unless told otherwise.

    With a *cancellation*, another thread can stop the run; this one then raises
    :class:`Interrupted`.
    """
    check_tools(gates)
    runner = cancellation or Cancellation()
    results: list[GateResult] = []
    for gate in gates:
        started = time.perf_counter()
        outputs: list[str] = []
        ok = True
        shown = ""
        for command in gate.commands:
            shown = " ".join(command)
            # uv runs by its real path (apiforge.processes): a pyenv shim named uv fails
            # under another .python-version.
            returncode, output = runner.run(command, cwd=project, env=env)
            outputs.append(f"$ {shown}\n{output}")
            if returncode != 0:
                ok = False
                break
        result = GateResult(gate.name, ok, time.perf_counter() - started, "".join(outputs), shown)
        results.append(result)
        if on_result is not None:
            on_result(result)
        if not ok and stop_on_failure:
            break
    return results
