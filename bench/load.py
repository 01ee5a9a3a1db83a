"""The `load` part: login latency and each endpoint under wrk, on one database."""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
import threading
import time
from collections.abc import Iterator, Mapping

from bench.api import ENDPOINTS, USER_EMAIL, USERS_ME, Endpoint, http, login, sign_in
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


# Clients sending wrong-password logins at once during the login storm.
STORM_CLIENTS = 20


@contextlib.contextmanager
def login_storm(base: str, clients: int) -> Iterator[list[int]]:
    """*clients* threads sending wrong-password logins for unknown emails until the block
    ends; yields the number of logins each has sent so far."""
    stop = threading.Event()
    sent = [0] * clients

    def attack(index: int) -> None:
        while not stop.is_set():
            form = {"username": f"storm{index}@example.com", "password": "wrong-password-1234"}
            http("POST", f"{base}/api/auth/token", form=form)
            sent[index] += 1

    threads = [threading.Thread(target=attack, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield sent
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def bench_login_storm(service: Service, plan: Plan, report: Report) -> None:
    """`GET /api/users/me` quiet and during a login storm, interleaved, on one server.

    Rate limits are off for this server, as when the storm comes from many addresses:
    every login then costs an argon2 verification.
    """
    options = service.default_options()
    options = dataclasses.replace(options, settings={"RATE_LIMITS_ENABLED": "false"})
    quiet: list[WrkRun] = []
    stormed: list[WrkRun] = []
    logins = 0
    with service.serve(options) as server:
        tokens = sign_in(server.url)
        for _ in range(plan.load_runs):
            quiet += load_endpoint(server, USERS_ME, tokens, plan, runs=1)
            with login_storm(server.url, STORM_CLIENTS) as sent:
                time.sleep(1)
                stormed += load_endpoint(server, USERS_ME, tokens, plan, runs=1)
            logins += sum(sent)
    name = database_name(service.database)
    for key, label, runs in (
        ("users_me_quiet", "GET /api/users/me, quiet (storm reference)", quiet),
        (
            "users_me_storm",
            f"GET /api/users/me during {STORM_CLIENTS} wrong-password logins at once",
            stormed,
        ),
    ):
        load = Load(
            f"load.{service.database}.{key}",
            service.database,
            label,
            runs,
            None,
            options.describe(),
        )
        report.loads.append(load)
        progress(load_summary(load))
    rps = statistics.median(r.requests_per_s for r in stormed) / statistics.median(
        r.requests_per_s for r in quiet
    )
    p99 = statistics.median(r.p99_ms for r in stormed) / statistics.median(r.p99_ms for r in quiet)
    progress(
        f"login storm ({name}, {logins} wrong-password logins answered): /api/users/me keeps "
        f"{rps:.0%} of its quiet requests/s (target >= 25%), p99 {p99:.1f}x quiet (target < 10x)"
    )


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
    bench_login_storm(service, plan, report)
