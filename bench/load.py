"""The `load` part: login latency and each endpoint under wrk, on one database.

On PostgreSQL, `GET /api/users/me` is measured interleaved on the generated service, a
raw reference (FastAPI, an asyncpg pool, PyJWT) and fastapi-users, and the users list on
the first two; the figures that hold targets are the generated service's ratios to them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import statistics
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from bench.api import (
    ADMIN_EMAIL,
    ENDPOINTS,
    USER_EMAIL,
    USERS_LIST,
    USERS_ME,
    Endpoint,
    http,
    login,
    sign_in,
)
from bench.commands import BenchError
from bench.console import database_name, errors, progress, seconds_text, section
from bench.figures import Load, Ratio, Report, Timing, WrkRun
from bench.plan import Plan
from bench.references import FastapiUsersApp
from bench.service import Running, Service
from bench.tables import load_summary, run_summary
from bench.wrk import wrk


def measure(
    server: Running, path: str, token: str | None, plan: Plan, *, runs: int
) -> list[WrkRun]:
    """A warm-up, then *runs* measured wrk runs against *path*; a pause after each."""
    measured = []
    for number in range(runs + 1):
        seconds = plan.load_seconds if number else plan.warmup_seconds
        result = wrk(server, path, seconds=seconds, token=token)
        if number:
            measured.append(result)
        time.sleep(plan.pause_seconds)
    return measured


def load_endpoint(
    server: Running, endpoint: Endpoint, tokens: Mapping[str, str], plan: Plan, *, runs: int
) -> list[WrkRun]:
    """A warm-up, then *runs* measured wrk runs against *endpoint*."""
    token = tokens[endpoint.as_user] if endpoint.as_user else None
    return measure(server, endpoint.path, token, plan, runs=runs)


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
    loads = {}
    for key, label, runs in (
        ("users_me_quiet", "GET /api/users/me, quiet (storm reference)", quiet),
        (
            "users_me_storm",
            f"GET /api/users/me during {STORM_CLIENTS} wrong-password logins at once",
            stormed,
        ),
    ):
        loads[key] = Load(
            f"load.{service.database}.{key}", service.database, label, runs, options.describe()
        )
        report.loads.append(loads[key])
        progress(load_summary(loads[key]))
    quiet_load, storm_load = loads["users_me_quiet"], loads["users_me_storm"]
    clean = quiet_load.clean and storm_load.clean
    rps = Ratio(
        f"ratio.{service.database}.login_storm.requests_per_s",
        f"GET /api/users/me req/s during a login storm / quiet, {name}",
        storm_load.median("requests_per_s"),
        quiet_load.median("requests_per_s"),
        "req/s",
        ">=",
        0.25,
        clean=clean,
    )
    p99 = Ratio(
        f"ratio.{service.database}.login_storm.p99",
        f"GET /api/users/me p99 during a login storm / quiet, {name}",
        storm_load.median("p99_ms"),
        quiet_load.median("p99_ms"),
        "ms",
        "<",
        10,
        clean=clean,
    )
    report.ratios += [rps, p99]
    progress(
        f"login storm ({name}, {logins} wrong-password logins answered): /api/users/me keeps "
        f"{rps.value:.0%} of its quiet requests/s (target >= 25%, {rps.verdict}), "
        f"p99 {p99.value:.1f}x quiet (target < 10x, {p99.verdict})"
    )


@dataclass(frozen=True)
class Contender:
    """One of the apps compared on an endpoint: a running server and the token it takes."""

    key: str
    label: str
    server: Running
    token: str
    settings: dict[str, str]

    @property
    def name(self) -> str:
        return self.key.replace("_", "-")


def compare(endpoint: Endpoint, contenders: Sequence[Contender], plan: Plan) -> list[list[WrkRun]]:
    """Load *endpoint* on each contender once per round, in an order that rotates each round
    (A B C, B C A, C A B, ...), so that a machine getting busier or quieter during the run
    shifts them alike; return each contender's runs."""
    runs: list[list[WrkRun]] = [[] for _ in contenders]
    indices = list(range(len(contenders)))
    for round_number in range(plan.load_runs):
        shift = round_number % len(indices)
        order = indices[shift:] + indices[:shift]
        progress(
            f"{endpoint.label}, round {round_number + 1} of {plan.load_runs}: "
            + ", then ".join(contenders[index].name for index in order)
        )
        for index in order:
            contender = contenders[index]
            runs[index] += measure(contender.server, endpoint.path, contender.token, plan, runs=1)
            progress(f"  {contender.label}: {run_summary(runs[index][-1])}")
    return runs


# The targets, per endpoint and reference app: the generated service's requests/s over the
# app's must be at least RPS_TARGETS', its p99 over the app's at most P99_TARGETS'. A pair
# not listed is measured and reported without a target.
RPS_TARGETS = {
    ("users_me", "raw"): 0.6,
    ("users_me", "fastapi_users"): 1.5,
    ("users_list", "raw"): 0.5,
}
P99_TARGETS = {("users_me", "raw"): 1.5}


def comparison_ratios(
    endpoint: Endpoint, generated: Load, contender: Contender, reference: Load
) -> list[Ratio]:
    """The generated service over one reference app: requests/s, p99 and CPU per request.

    A ratio whose runs had errors (non-2xx answers, socket errors) misses its target.
    """
    clean = generated.clean and reference.clean
    prefix = f"ratio.{generated.database}.{endpoint.key}.generated_over_{contender.key}"
    name = f"{endpoint.label}, generated / {contender.name}"
    rps_target = RPS_TARGETS.get((endpoint.key, contender.key))
    p99_target = P99_TARGETS.get((endpoint.key, contender.key))
    ratios = [
        Ratio(
            f"{prefix}.requests_per_s",
            f"{name}: requests/s",
            generated.median("requests_per_s"),
            reference.median("requests_per_s"),
            "req/s",
            ">=" if rps_target else None,
            rps_target,
            clean=clean,
        ),
        Ratio(
            f"{prefix}.p99",
            f"{name}: p99",
            generated.median("p99_ms"),
            reference.median("p99_ms"),
            "ms",
            "<=" if p99_target else None,
            p99_target,
            clean=clean,
        ),
    ]
    if generated.server_cpu_ms is not None and reference.server_cpu_ms is not None:
        ratios.append(
            Ratio(
                f"{prefix}.server_cpu_ms",
                f"{name}: CPU per request",
                generated.server_cpu_ms,
                reference.server_cpu_ms,
                "ms",
            )
        )
    return ratios


def ratio_text(ratio: Ratio) -> str:
    text = f"{ratio.label.rsplit(': ', 1)[1]} {ratio.value:.2f}"
    if ratio.target:
        text += f" (target {ratio.target}, {ratio.verdict})"
    return text


def bench_comparison(
    service: Service,
    endpoint: Endpoint,
    contenders: Sequence[Contender],
    plan: Plan,
    report: Report,
) -> None:
    """*endpoint* on the generated service (first of *contenders*) and the reference apps,
    interleaved; the loads, and the generated service's ratios to each reference."""
    runs = compare(endpoint, contenders, plan)
    loads = []
    for contender, measured in zip(contenders, runs, strict=True):
        key = f"load.{service.database}.{endpoint.key}"
        label = endpoint.label
        if contender.key != "generated":
            key += f".{contender.key}"
            label += f", {contender.label}"
        loads.append(Load(key, service.database, label, measured, contender.settings))
    report.loads += loads
    if plan.load_runs > 1:
        progress(f"medians of the {plan.load_runs} rounds:")
        for load in loads:
            progress(f"  {load_summary(load)}")
    for contender, reference in zip(contenders[1:], loads[1:], strict=True):
        ratios = comparison_ratios(endpoint, loads[0], contender, reference)
        report.ratios += ratios
        progress(
            f"generated / {contender.name}: " + "; ".join(ratio_text(ratio) for ratio in ratios)
        )


def same_json(url: str, reference: str, endpoint: Endpoint, token: str) -> None:
    """The raw reference answers *endpoint* with the same JSON as the generated service."""
    answers = [http("GET", base + endpoint.path, token=token) for base in (url, reference)]
    if answers[0] != answers[1]:
        raise BenchError(
            f"{endpoint.label}: the raw reference answers {answers[1]}, "
            f"the generated service {answers[0]}"
        )


def fastapi_users_failed(exc: BenchError, report: Report) -> None:
    """Say and record why fastapi-users is left out; the other apps are still compared."""
    errors.print(f"[red]the fastapi-users reference app failed:[/] {exc}")
    report.failed.append(f"fastapi-users reference app: {str(exc).splitlines()[0]}")


def prepare_fastapi_users(app: FastapiUsersApp | None, report: Report) -> FastapiUsersApp | None:
    """The fastapi-users reference installed and set up, or None (recorded) when it fails."""
    if app is None:
        return None
    try:
        app.prepare()
    except BenchError as exc:
        fastapi_users_failed(exc, report)
        return None
    report.machine["fastapi_users_env"] = app.versions
    progress(
        "fastapi-users reference: its own environment ("
        + ", ".join(f"{name} {version}" for name, version in app.versions.items())
        + "), database, tables and user"
    )
    return app


def bench_references(
    service: Service,
    generated: Contender,
    tokens: Mapping[str, str],
    fastapi_users: FastapiUsersApp | None,
    plan: Plan,
    report: Report,
) -> None:
    """On PostgreSQL: `GET /api/users/me` on the generated service, the raw reference and
    fastapi-users, then the users list on the first two, each interleaved."""
    options = service.default_options()
    raw_options = dataclasses.replace(options, script="reference-raw")
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(service.serve(raw_options))
        same_json(generated.server.url, raw.url, USERS_ME, tokens[USER_EMAIL])
        same_json(generated.server.url, raw.url, USERS_LIST, tokens[ADMIN_EMAIL])
        me = [
            generated,
            Contender("raw", RAW_LABEL, raw, tokens[USER_EMAIL], raw_options.describe()),
        ]
        if fastapi_users is not None:
            try:
                server = stack.enter_context(fastapi_users.serve(options.loop, options.http))
                token = fastapi_users.sign_in(server.url)
            except BenchError as exc:
                fastapi_users_failed(exc, report)
            else:
                described = {"loop": options.loop, "http": options.http, "script": "fastapi-users"}
                me.append(Contender("fastapi_users", FASTAPI_USERS_LABEL, server, token, described))
        bench_comparison(service, USERS_ME, me, plan, report)
        admin = tokens[ADMIN_EMAIL]
        listing = [dataclasses.replace(contender, token=admin) for contender in me[:2]]
        bench_comparison(service, USERS_LIST, listing, plan, report)


RAW_LABEL = "raw reference: FastAPI + asyncpg pool + PyJWT"
FASTAPI_USERS_LABEL = "fastapi-users reference: SQLAlchemy async + JWT strategy"


def bench_service(
    service: Service, plan: Plan, report: Report, fastapi_users: FastapiUsersApp | None = None
) -> None:
    """Login latency and the endpoints under load; on PostgreSQL `GET /api/users/me` and the
    users list are measured against the reference apps instead of alone."""
    name = database_name(service.database)
    section(f"Service under load ({name})")
    service.prepare()
    postgres = service.database == "postgresql"
    references = prepare_fastapi_users(fastapi_users, report) if postgres else None
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
            if postgres and endpoint.key in {"users_me", "users_list"}:
                continue
            runs = load_endpoint(server, endpoint, tokens, plan, runs=plan.load_runs)
            load = Load(
                f"load.{service.database}.{endpoint.key}",
                service.database,
                endpoint.label,
                runs,
                options.describe(),
            )
            progress(load_summary(load))
            report.loads.append(load)
        if postgres:
            generated = Contender(
                "generated", "generated service", server, tokens[USER_EMAIL], options.describe()
            )
            bench_references(service, generated, tokens, references, plan, report)
    bench_login_storm(service, plan, report)
