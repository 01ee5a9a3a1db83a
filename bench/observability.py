"""The `observability` part: what the observability answer costs `GET /api/users/me`.

A project with the default answers and one with `observability=true` are served side by
side on one database server and loaded in interleaved rounds: the default project, the
observability project with only its metrics, with traces of every request sent by the
OTLP exporter to a sink in the benchmark, and with traces of one request in ten. Each
observability variant's requests/s, p99 and CPU per request are divided by the default
project's; none has a target (see bench/README.md).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.api import USERS_ME, http, sign_in
from bench.commands import BenchError, run
from bench.console import database_name, progress, section
from bench.figures import Load, Ratio, Report
from bench.load import Contender, compare
from bench.plan import Plan
from bench.projects import create
from bench.service import Running, ServerOptions, Service
from bench.tables import load_summary
from bench.workspace import Workspace

# The answer that turns observability on, as `apiforge new` takes it.
OBSERVABILITY_ANSWER = ("--data", "observability=true")

# Serves /metrics to its bearer (the service wants at least 32 characters).
METRICS_TOKEN = "bench-metrics-token-0123456789abcdef"

# Variables that would turn something on in every variant, or move /metrics elsewhere.
FOREIGN_PREFIXES = ("OTEL_", "SENTRY_", "METRICS_")


@dataclass(frozen=True)
class Variant:
    """One way of serving: which project, and the settings beyond the service's own.

    *traced* variants send their spans to an OTLP sink of their own.
    """

    key: str
    label: str
    observability: bool
    settings: Mapping[str, str] = field(default_factory=dict)
    traced: bool = False


VARIANTS = (
    Variant("default", "default answers (no observability)", observability=False),
    Variant(
        "metrics",
        "observability, metrics only (METRICS_TOKEN, no OTEL_*)",
        observability=True,
        settings={"METRICS_TOKEN": METRICS_TOKEN},
    ),
    Variant(
        "traced",
        "observability, every request traced to an OTLP sink (always_on)",
        observability=True,
        settings={"METRICS_TOKEN": METRICS_TOKEN, "OTEL_TRACES_SAMPLER": "always_on"},
        traced=True,
    ),
    Variant(
        "sampled",
        "observability, 1 request in 10 traced (traceidratio 0.1)",
        observability=True,
        settings={
            "METRICS_TOKEN": METRICS_TOKEN,
            "OTEL_TRACES_SAMPLER": "traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.1",
        },
        traced=True,
    ),
)


class _SinkHandler(BaseHTTPRequestHandler):
    """Answers 200, with an empty body, to every POST to /v1/traces; 404 to the rest."""

    protocol_version = "HTTP/1.1"  # the exporter keeps its connection open
    server: _SinkServer

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status = 200 if self.path == "/v1/traces" else 404
        if status == 200:
            self.server.record(len(body))
        self.send_response(status)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


class _SinkServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SinkHandler)
        self._lock = threading.Lock()
        self.exports = 0
        self.bytes = 0

    def record(self, size: int) -> None:
        with self._lock:
            self.exports += 1
            self.bytes += size


class OtlpSink:
    """A tiny OTLP/HTTP receiver on 127.0.0.1, in a thread of the benchmark: it counts the
    exports (POST /v1/traces) and their bytes and throws the spans away."""

    def __init__(self) -> None:
        self._server = _SinkServer()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def exports(self) -> int:
        return self._server.exports

    @property
    def bytes(self) -> int:
        return self._server.bytes

    def __enter__(self) -> OtlpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


def scrape(base: str, token: str | None) -> tuple[int, str]:
    """GET /metrics (with *token* as the bearer); the status and the text."""
    request = urllib.request.Request(base + "/metrics")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status: int = response.status
            return status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


# One sample of the request counter for GET /api/users/me answered 200, labels in any order.
_COUNTED = re.compile(r"^http_requests_total\{([^}]*)\}\s+([0-9.eE+]+)\s*$", re.M)
_WANTED_LABELS = {'method="GET"', f'route="{USERS_ME.path}"', 'status="200"'}


def counted_requests(text: str) -> float | None:
    """`http_requests_total` for GET /api/users/me answered 200, or None if not there."""
    for labels, value in _COUNTED.findall(text):
        if set(labels.split(",")) >= _WANTED_LABELS:
            return float(value)
    return None


def check_metrics(variant: Variant, server: Running) -> None:
    """The observability variants count the route at /metrics; the default has no /metrics."""
    status, text = scrape(server.url, METRICS_TOKEN)
    if not variant.observability:
        if status != 404:
            raise BenchError(f"{variant.label}: GET /metrics answered {status}, not 404")
        progress(f"  {variant.key}: GET /metrics answers 404 (no metrics)")
        return
    if status != 200:
        raise BenchError(f"{variant.label}: GET /metrics answered {status}: {text[:200]}")
    count = counted_requests(text)
    if count is None:
        raise BenchError(
            f'{variant.label}: /metrics has no http_requests_total{{route="{USERS_ME.path}"}}'
        )
    progress(
        f'  {variant.key}: /metrics counts http_requests_total{{route="{USERS_ME.path}"}} '
        f"{count:.0f}"
    )


def check_spans(variant: Variant, server: Running, token: str, sink: OtlpSink) -> None:
    """Send requests until the sink has an export (the SDK batches spans for up to 5 s)."""
    sent = 0
    deadline = time.monotonic() + 30
    while sink.exports == 0:
        if time.monotonic() > deadline:
            raise BenchError(f"{variant.label}: no spans reached the OTLP sink in 30 s")
        for _ in range(10):
            http("GET", server.url + USERS_ME.path, token=token)
        sent += 10
        time.sleep(0.2)
    progress(
        f"  {variant.key}: the OTLP sink received {sink.exports} export(s), "
        f"{sink.bytes:,} bytes, after {sent} requests"
    )


def installed(service: Service) -> dict[str, str]:
    """The packages in *service*'s project environment, with their versions."""
    listed = run(
        ["uv", "pip", "list", "--format", "json", "--python", ".venv"],
        cwd=service.project,
        env=service.env(),
        timeout=120,
    )
    return {package["name"].lower(): package["version"] for package in json.loads(listed.stdout)}


def compare_environments(default: Service, observed: Service, report: Report) -> None:
    """The packages the answer adds go into the JSON (`machine.observability_env`); the
    two projects must share every other package at the same version, or the ratios would
    measure the versions too."""
    before, after = installed(default), installed(observed)
    differ = sorted(name for name in before.keys() & after.keys() if before[name] != after[name])
    if differ:
        raise BenchError(
            "the two projects have different versions of "
            + ", ".join(f"{name} ({before[name]} against {after[name]})" for name in differ)
        )
    added = {name: after[name] for name in sorted(after.keys() - before.keys())}
    report.machine["observability_env"] = added
    shown = ("prometheus-client", "opentelemetry-sdk", "opentelemetry-instrumentation-fastapi")
    progress(
        f"the answer adds {len(added)} packages ("
        + ", ".join(f"{name} {added[name]}" for name in shown if name in added)
        + ", ...); the rest are the same versions in both projects"
    )


def environment_is_clean() -> None:
    """No OTEL_*, SENTRY_* or METRICS_* variable reaches the servers from the benchmark's
    own environment, where it would change the variants."""
    found = sorted(name for name in os.environ if name.startswith(FOREIGN_PREFIXES))
    if found:
        raise BenchError(
            "unset these before measuring observability, they would change every variant: "
            + ", ".join(found)
        )


def observability_ratios(
    database: str, variant: Variant, load: Load, default: Load, note: str
) -> list[Ratio]:
    """*variant* over the default project: requests/s, p99 and CPU per request, no target."""
    clean = load.clean and default.clean
    prefix = f"ratio.{database}.observability.{variant.key}_over_default"
    name = f"GET /api/users/me, observability {variant.key} / default, {database_name(database)}"
    ratios = [
        Ratio(
            f"{prefix}.requests_per_s",
            f"{name}: requests/s",
            load.median("requests_per_s"),
            default.median("requests_per_s"),
            "req/s",
            note=note,
            clean=clean,
        ),
        Ratio(
            f"{prefix}.p99",
            f"{name}: p99",
            load.median("p99_ms"),
            default.median("p99_ms"),
            "ms",
            note=note,
            clean=clean,
        ),
    ]
    if load.server_cpu_ms is not None and default.server_cpu_ms is not None:
        ratios.append(
            Ratio(
                f"{prefix}.server_cpu_ms",
                f"{name}: CPU per request",
                load.server_cpu_ms,
                default.server_cpu_ms,
                "ms",
                note=note,
            )
        )
    return ratios


def variant_options(variant: Variant, service: Service, sink: OtlpSink | None) -> ServerOptions:
    settings = dict(variant.settings)
    if sink is not None:
        settings["OTEL_EXPORTER_OTLP_ENDPOINT"] = sink.url
    return ServerOptions(settings=settings, loop=service.loop, http=service.http)


def sink_note(server: Running, sink: OtlpSink) -> str:
    """What the sink received over the whole run, per request the server counted."""
    _, text = scrape(server.url, METRICS_TOKEN)
    counted = counted_requests(text) or 0.0
    per_request = sink.bytes / counted if counted else 0.0
    return (
        f"OTLP sink: {sink.exports:,} exports, {sink.bytes:,} bytes for {counted:,.0f} "
        f"requests counted ({per_request:,.0f} bytes per request)"
    )


def bench_observability(
    ws: Workspace,
    plan: Plan,
    report: Report,
    database: str,
    default_project: Path,
    database_url: Callable[[str], str],
) -> None:
    """Generate the observability project beside *default_project*; load both, interleaved.

    *database_url* gives the URL of a new, empty database of the given name.
    """
    name = database_name(database)
    section(f"What observability costs GET /api/users/me ({name})")
    environment_is_clean()
    progress("generating and installing a project with observability=true")
    observed_project = create(ws, database, *OBSERVABILITY_ANSWER)
    default = Service(ws, default_project, database, database_url("observability_off"))
    observed = Service(ws, observed_project, database, database_url("observability_on"))
    default.prepare()
    observed.prepare()
    compare_environments(default, observed, report)
    if (default.loop, default.http) != (observed.loop, observed.http):
        raise BenchError(
            f"the projects differ in uvloop/httptools: {default.loop}/{default.http} "
            f"against {observed.loop}/{observed.http}"
        )
    progress(f"uvicorn, 1 worker, --loop {default.loop} --http {default.http}; every variant")
    progress("is started, signed in and checked, then loaded in rounds:")
    with contextlib.ExitStack() as stack:
        contenders: list[Contender] = []
        sinks: dict[str, OtlpSink] = {}
        for variant in VARIANTS:
            service = observed if variant.observability else default
            sink = stack.enter_context(OtlpSink()) if variant.traced else None
            options = variant_options(variant, service, sink)
            server = stack.enter_context(service.serve(options))
            token = sign_in(server.url)[USERS_ME.as_user or ""]
            check_metrics(variant, server)
            if sink is not None:
                check_spans(variant, server, token, sink)
                sinks[variant.key] = sink
            project = "observability=true" if variant.observability else "default answers"
            described = {**options.describe(), "project": project}
            contenders.append(Contender(variant.key, variant.label, server, token, described))
        runs = compare(USERS_ME, contenders, plan)
        notes = {
            contender.key: sink_note(contender.server, sinks[contender.key])
            for contender in contenders
            if contender.key in sinks
        }
    loads = [
        Load(
            f"load.{database}.observability.{variant.key}",
            database,
            f"GET /api/users/me, {variant.label}",
            measured,
            contender.settings,
        )
        for variant, contender, measured in zip(VARIANTS, contenders, runs, strict=True)
    ]
    report.loads += loads
    progress(f"medians of the {plan.load_runs} round(s):" if plan.load_runs > 1 else "figures:")
    for load in loads:
        progress(f"  {load_summary(load)}")
    for key, note in notes.items():
        progress(f"  {key}: {note}")
    for variant, load in zip(VARIANTS[1:], loads[1:], strict=True):
        ratios = observability_ratios(database, variant, load, loads[0], notes.get(variant.key, ""))
        report.ratios += ratios
        progress(
            f"{variant.key} / default: "
            + "; ".join(f"{ratio.label.rsplit(': ', 1)[1]} {ratio.value:.2f}" for ratio in ratios)
        )


def sqlite_urls(ws: Workspace) -> Callable[[str], str]:
    """New SQLite database files in a folder of the run."""
    folder = ws.folder("observability-db")
    return lambda name: f"sqlite+aiosqlite:///{folder / name}.db"
