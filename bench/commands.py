"""Commands the benchmark runs and times; a failed one raises :class:`BenchError`."""

from __future__ import annotations

import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from apiforge import processes
from bench.console import progress, seconds_text


class BenchError(Exception):
    """A step failed; the message says which and shows the end of its output."""


@dataclass(frozen=True)
class Completed:
    stdout: str
    seconds: float


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
) -> Completed:
    """Run *command* in its own process group and time it from start to exit.

    A non-zero exit raises :class:`BenchError`. On a timeout, an error or Ctrl-C the
    whole group is killed, so nothing outlives the benchmark.
    """
    started = time.perf_counter()
    process = processes.start(command, cwd=cwd, env=env)
    try:
        stdout, stderr = processes.finish(process, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"`{' '.join(command)}` took longer than {timeout:.0f} s") from None
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        output = tail(stdout + stderr)
        raise BenchError(f"`{' '.join(command)}` failed ({process.returncode}):\n{output}")
    return Completed(stdout, seconds)


def repeat(
    label: str,
    command: Sequence[str],
    *,
    runs: int,
    cwd: Path,
    env: Mapping[str, str],
    warmups: int = 1,
) -> list[float]:
    """Run *command* *warmups* times untimed, then *runs* times; return the times."""
    for _ in range(warmups):
        run(command, cwd=cwd, env=env, timeout=120)
    times = [run(command, cwd=cwd, env=env, timeout=120).seconds for _ in range(runs)]
    progress(f"{label}: median {seconds_text(statistics.median(times))}")
    return times


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def interleave(
    commands: Mapping[str, Callable[[], Sequence[str]]],
    *,
    runs: int,
    cwd: Path,
    env: Mapping[str, str],
    warmups: int = 1,
) -> dict[str, list[float]]:
    """Time several commands side by side; return each label's times.

    Each command (made afresh by its callable, e.g. for a new target folder) runs *warmups*
    times untimed, then *runs* rounds in which every command runs once, in an order that
    rotates each round: a machine getting busier or quieter shifts them alike.
    """
    labels = list(commands)
    for _ in range(warmups):
        for label in labels:
            run(commands[label](), cwd=cwd, env=env, timeout=120)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for round_number in range(runs):
        shift = round_number % len(labels)
        for label in labels[shift:] + labels[:shift]:
            times[label].append(run(commands[label](), cwd=cwd, env=env, timeout=120).seconds)
    for label in labels:
        progress(f"{label}: median {seconds_text(statistics.median(times[label]))}")
    return times
