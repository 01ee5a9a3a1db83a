"""The `load` part: login latency and each endpoint under wrk, on one database."""

from __future__ import annotations

import statistics
from collections.abc import Mapping

from bench.api import ENDPOINTS, USER_EMAIL, Endpoint, login, sign_in
from bench.console import database_name, progress, seconds_text, section
from bench.figures import USERS_ME_TARGET, Load, Report, Timing, WrkRun
from bench.plan import Plan
from bench.service import Running, Service
from bench.tables import load_summary
from bench.wrk import wrk


def load_endpoint(
    server: Running, endpoint: Endpoint, tokens: Mapping[str, str], plan: Plan, *, runs: int
) -> list[WrkRun]:
    """A warm-up, then *runs* measured wrk runs against *endpoint*."""
    token = tokens[endpoint.as_user] if endpoint.as_user else None
    wrk(server, endpoint.path, seconds=plan.warmup_seconds, token=token)
    return [wrk(server, endpoint.path, seconds=plan.load_seconds, token=token) for _ in range(runs)]


def bench_service(service: Service, plan: Plan, report: Report) -> None:
    name = database_name(service.database)
    section(f"Service under load ({name})")
    service.prepare()
    options = service.default_options()
    progress(f"uvicorn, 1 worker, --loop {options.loop} --http {options.http}")
    with service.serve(options) as server:
        tokens = sign_in(server.url)
        logins = [login(server.url, USER_EMAIL)[1] for _ in range(plan.logins)]
        progress(
            f"login: median {seconds_text(statistics.median(logins))}, "
            f"max {seconds_text(max(logins))}"
        )
        report.timings.append(
            Timing(
                f"login.{service.database}",
                f"login (POST /api/auth/token), {name}",
                logins,
                0.3,
                note="sequential, default argon2 parameters",
            )
        )
        for endpoint in ENDPOINTS:
            runs = load_endpoint(server, endpoint, tokens, plan, runs=plan.load_runs)
            target = (
                USERS_ME_TARGET
                if (service.database, endpoint.key) == ("postgresql", "users_me")
                else None
            )
            load = Load(
                f"load.{service.database}.{endpoint.key}",
                service.database,
                endpoint.label,
                runs,
                target,
                options.describe(),
            )
            progress(load_summary(load))
            report.loads.append(load)
