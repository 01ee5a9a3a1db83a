"""What a run measures: its parts, and how many times each figure is measured."""

from __future__ import annotations

from dataclasses import dataclass

# cli: --help/--version latency; new: `apiforge new`; green: time to green;
# suite: the generated test suite; load: the service under wrk, login latency and a login
# storm; verify: `apiforge verify --matrix pairwise`; observability: `GET /api/users/me`
# with the observability answer's metrics and traces against the default project.
PARTS = ("cli", "new", "green", "suite", "load", "verify", "observability")

# The parts that load a service under wrk.
LOAD_PARTS = frozenset({"load", "observability"})


@dataclass(frozen=True)
class Plan:
    """How many times each figure is measured, and for how long; the defaults are FULL."""

    cli_runs: int = 20
    new_runs: int = 5
    green_runs: int = 3
    suite_runs: int = 3
    load_runs: int = 3
    load_seconds: int = 10
    warmup_seconds: int = 3
    # Idle time after every wrk run, warm-ups included, so one run's backlog (closing
    # connections, PostgreSQL's background work) does not spill into the next.
    pause_seconds: int = 2
    logins: int = 20


FULL = Plan()
QUICK = Plan(
    cli_runs=10,
    new_runs=3,
    green_runs=1,
    suite_runs=2,
    load_runs=1,
    load_seconds=5,
    warmup_seconds=2,
    pause_seconds=1,
    logins=10,
)
