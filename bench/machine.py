"""The machine record (with two noise indicators), and wrk, installed when it can be."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import apiforge
from apiforge.pgserver import find_pg_bin
from apiforge.tools import find_uv
from bench.commands import BenchError, run
from bench.console import errors, progress

REPO = Path(__file__).resolve().parent.parent


def ensure_wrk() -> bool:
    """True when wrk is available, installing Debian's package when running as root."""
    if shutil.which("wrk"):
        return True
    apt = shutil.which("apt-get")
    if os.geteuid() == 0 and apt:
        progress("wrk is missing; installing it with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with contextlib.suppress(BenchError):
            run([apt, "update", "-qq"], cwd=Path("/"), env=env, timeout=600)
            run([apt, "install", "-y", "-qq", "wrk"], cwd=Path("/"), env=env, timeout=600)
        if shutil.which("wrk"):
            return True
    errors.print(
        "[yellow]wrk is not installed; install it with `apt-get install wrk` "
        "(or `brew install wrk`). Skipping the load figures.[/]"
    )
    return False


def first_line(command: Sequence[str]) -> str | None:
    """The first line *command* prints, or None when it cannot run."""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0] if lines else None


def python_loop_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (median of 5).

    Taken at the start and at the end of a run: it compares machines, and shows when
    the machine got slower during the run because something else was using it.
    """
    times = []
    for _ in range(5):
        started = time.perf_counter()
        sum(number * number for number in range(300_000))
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gib": None,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "apiforge": apiforge.__version__,
        "commit": first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"]),
        "uv": first_line([find_uv(), "--version"]),
        "wrk": first_line(["wrk", "--version"]) if shutil.which("wrk") else None,
        "postgresql": None,
        "load_average": os.getloadavg()[0],
        "python_loop_ms": python_loop_ms(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024**2, 1)
                break
    with contextlib.suppress(OSError):
        release = Path("/etc/os-release").read_text()
        if found := re.search(r'^PRETTY_NAME="?([^"\n]*)"?', release, re.M):
            info["os"] = f"{found[1]} ({platform.platform()})"
    bin_dir = find_pg_bin()
    if bin_dir is not None:
        info["postgresql"] = first_line([str(bin_dir / "postgres"), "--version"])
    return info
