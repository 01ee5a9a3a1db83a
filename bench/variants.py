"""`--investigate`: where the time of `GET /api/users/me` on PostgreSQL goes.

One change at a time against the defaults, then two reference apps doing the same lookup.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.api import USER_EMAIL, USERS_ME, sign_in
from bench.console import progress, section
from bench.figures import Load, Report, WrkRun
from bench.load import load_endpoint
from bench.plan import Plan
from bench.service import ServerOptions, Service
from bench.tables import run_summary


@dataclass(frozen=True)
class Variant:
    label: str
    settings: Mapping[str, str] = field(default_factory=dict)
    loop: str | None = None
    http: str | None = None
    script: str | None = None
    flags: tuple[str, ...] = ()


VARIANTS = (
    Variant("defaults: pool 10 + 5 overflow, gate 10, recycled after 30 min, no pre-ping"),
    Variant("gate off: 50 requests contend for the pool", script="patched", flags=("gate-off",)),
    Variant("DB_MAX_CONCURRENCY=5", {"DB_MAX_CONCURRENCY": "5"}),
    Variant("DB_MAX_CONCURRENCY=2", {"DB_MAX_CONCURRENCY": "2"}),
    Variant(
        "DB_POOL_SIZE=50, DB_MAX_CONCURRENCY=50", {"DB_POOL_SIZE": "50", "DB_MAX_CONCURRENCY": "50"}
    ),
    Variant("DB_POOL_PRE_PING=true (three round trips per checkout)", {"DB_POOL_PRE_PING": "true"}),
    Variant("LOG_LEVEL=WARNING (no log line per request)", {"LOG_LEVEL": "WARNING"}),
    Variant("asyncio loop and h11 instead of uvloop and httptools", loop="asyncio", http="h11"),
    Variant("gc.freeze() after start-up", script="patched", flags=("gc-freeze",)),
    Variant("reference: minimal FastAPI + SQLAlchemy ORM, no gate", script="reference-orm"),
    Variant("reference: minimal FastAPI + raw asyncpg pool of 10", script="reference-raw"),
)


def bench_variants(service: Service, plan: Plan, report: Report) -> None:
    """Load `GET /api/users/me` under each variant, in rounds.

    Each round starts every variant afresh and measures it once, so a machine that gets
    busier or quieter during the run shifts every variant alike.
    """
    section("GET /api/users/me on PostgreSQL: one change at a time")
    with service.serve(service.default_options()) as server:
        tokens = sign_in(server.url)
    options = [
        ServerOptions(
            settings=variant.settings,
            loop=variant.loop or service.loop,
            http=variant.http or service.http,
            script=variant.script,
            flags=variant.flags,
        )
        for variant in VARIANTS
    ]
    runs: list[list[WrkRun]] = [[] for _ in VARIANTS]
    for round_number in range(1, plan.load_runs + 1):
        progress(f"round {round_number} of {plan.load_runs}")
        for variant, option, measured in zip(VARIANTS, options, runs, strict=True):
            probe = {"probe": USERS_ME.path, "token": tokens[USER_EMAIL]}
            with service.serve(option, **probe) as server:
                measured += load_endpoint(server, USERS_ME, tokens, plan, runs=1)
            progress(f"  {variant.label}: {run_summary(measured[-1])}")
    for variant, option, measured in zip(VARIANTS, options, runs, strict=True):
        report.investigation.append(
            Load(
                "investigate.postgresql.users_me",
                service.database,
                variant.label,
                measured,
                option.describe(),
            )
        )
