"""The figures a run measures, and the report that holds them (written as JSON)."""

from __future__ import annotations

import operator
import os
import statistics
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.console import seconds_text
from bench.plan import Plan

# wrk's connections and threads, for every load figure. One thread: on a 2-core machine a
# second wrk thread takes CPU from the server it measures, and one thread keeps 50
# connections busy with a single-worker service.
CONNECTIONS = 50
THREADS = 1


@dataclass(frozen=True)
class Timing:
    """A wall time measured several times; `limit` (seconds) is the target, if any."""

    key: str
    label: str
    runs: list[float]
    limit: float | None = None
    note: str = ""
    details: list[dict[str, float]] = field(default_factory=list)
    load_average: float = field(default_factory=lambda: os.getloadavg()[0])

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def passed(self) -> bool | None:
        return None if self.limit is None else self.median < self.limit

    @property
    def target(self) -> str:
        return "" if self.limit is None else f"< {seconds_text(self.limit)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": "s",
            "median": self.median,
            "max": max(self.runs),
            "runs": self.runs,
            "target": self.target or None,
            "passed": self.passed,
            "note": self.note or None,
            "details": self.details or None,
            "load_average": self.load_average,
        }


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reported."""

    requests_per_s: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    load_average: float
    # CPU time the service's processes used per request (user + system), where /proc
    # tells; unlike wall time it barely moves when other programs share the machine.
    server_cpu_ms: float | None = None

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0


@dataclass(frozen=True)
class Load:
    """One endpoint under load, measured several times against one running service."""

    key: str
    database: str
    label: str
    runs: list[WrkRun]
    settings: dict[str, str] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(float(getattr(run, name)) for run in self.runs)

    @property
    def server_cpu_ms(self) -> float | None:
        measured = [run.server_cpu_ms for run in self.runs if run.server_cpu_ms is not None]
        return statistics.median(measured) if measured else None

    @property
    def clean(self) -> bool:
        return all(run.clean for run in self.runs)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "database": self.database,
            "label": self.label,
            "connections": CONNECTIONS,
            "threads": THREADS,
            "median": {
                **{
                    name: self.median(name)
                    for name in ("requests_per_s", "p50_ms", "p75_ms", "p90_ms", "p99_ms")
                },
                "server_cpu_ms": self.server_cpu_ms,
            },
            "runs": [vars(run) for run in self.runs],
            "clean": self.clean,
            "settings": self.settings,
        }


# How a ratio is held to its target.
_COMPARE = {">=": operator.ge, "<=": operator.le, "<": operator.lt}


@dataclass(frozen=True)
class Ratio:
    """One figure divided by another measured in the same run, e.g. the generated service's
    requests/s over a reference app's; `compare` and `limit` make its target, if any.

    Ratios are what the targets are set in: on a shared machine both sides move together,
    where absolute figures do not.
    """

    key: str
    label: str
    numerator: float
    denominator: float
    unit: str
    compare: str | None = None
    limit: float | None = None
    note: str = ""
    # False when a run behind either figure had errors: the ratio then misses its target.
    clean: bool = True

    @property
    def value(self) -> float:
        return self.numerator / self.denominator if self.denominator else float("inf")

    @property
    def passed(self) -> bool | None:
        if self.compare is None or self.limit is None:
            return None
        return self.clean and bool(_COMPARE[self.compare](self.value, self.limit))

    @property
    def target(self) -> str:
        if self.compare is None or self.limit is None:
            return ""
        return f"{self.compare} {self.limit:g}"

    @property
    def verdict(self) -> str:
        return {None: "", True: "met", False: "missed"}[self.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": round(self.value, 4),
            "numerator": self.numerator,
            "denominator": self.denominator,
            "unit": self.unit,
            "target": self.target or None,
            "passed": self.passed,
            "clean": self.clean,
            "note": self.note or None,
        }


@dataclass
class Report:
    """Everything measured so far; written as JSON even when the run stops early."""

    plan: Plan
    machine: dict[str, Any]
    timings: list[Timing] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)
    ratios: list[Ratio] = field(default_factory=list)
    investigation: list[Load] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self, *, complete: bool) -> dict[str, Any]:
        return {
            "command": " ".join(["uv run python bench/run.py", *sys.argv[1:]]),
            "started": self.started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "complete": complete,
            "plan": vars(self.plan),
            "machine": self.machine,
            "timings": [timing.to_json() for timing in self.timings],
            "load": [load.to_json() for load in self.loads],
            "ratios": [ratio.to_json() for ratio in self.ratios],
            "investigation": [load.to_json() for load in self.investigation],
            "skipped": self.skipped,
            "failed": self.failed,
        }
