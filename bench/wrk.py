"""wrk against a running service: one run, read from wrk's report."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from bench.commands import BenchError, run, tail
from bench.figures import CONNECTIONS, THREADS, WrkRun
from bench.service import Running

_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def wrk(server: Running, path: str, *, seconds: int, token: str | None) -> WrkRun:
    """Load *path* for *seconds*; the result includes the service's CPU time per request."""
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    load_average = os.getloadavg()[0]
    cpu_before = server.cpu_seconds()
    completed = run(
        [*command, server.url + path], cwd=Path.cwd(), env=os.environ, timeout=seconds + 60
    )
    cpu_after = server.cpu_seconds()
    result = parse_wrk(completed.stdout, load_average)
    if cpu_before is None or cpu_after is None or not result.requests:
        return result
    cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
    return dataclasses.replace(result, server_cpu_ms=round(cpu_ms, 3))


def parse_wrk(output: str, load_average: float) -> WrkRun:
    """Read requests/s, the latency percentiles and the error counts from wrk's report."""
    percentiles = {
        int(match[1]): float(match[2]) * _WRK_UNITS[match[3]]
        for match in re.finditer(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    if rate is None or total is None or len(percentiles) != 4:
        raise BenchError(f"could not read wrk's report:\n{tail(output)}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkRun(
        requests_per_s=float(rate[1]),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(count) for count in sockets.groups()) if sockets else 0,
        load_average=load_average,
    )
