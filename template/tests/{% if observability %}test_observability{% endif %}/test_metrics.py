"""Prometheus metrics: counted per route template, served to a token bearer or on a port."""

import asyncio
import urllib.request
import uuid

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from pydantic import SecretStr

from src.core.config import SettingsError, get_settings, load_settings
from src.db.session import Transactions
from src.main import create_app
from src.observability.metrics import UNMATCHED_ROUTE, MetricsServer, registry
from tests.conftest import serve

TOKEN = "metrics-token-5f1c9a3e7b2d4f6a8c0e1b3d5f7a9c2e"


def requests_counted(method: str, route: str, status: int) -> float:
    labels = {"method": method, "route": route, "status": str(status)}
    return registry.get_sample_value("http_requests_total", labels) or 0.0


def latencies_counted(method: str, route: str) -> float:
    labels = {"method": method, "route": route}
    return registry.get_sample_value("http_request_duration_seconds_count", labels) or 0.0


def app_with(**settings: object) -> FastAPI:
    return create_app(get_settings().model_copy(update=settings))


async def test_requests_are_counted_and_timed_by_route_template(
    client: AsyncClient, superuser_headers: dict[str, str]
) -> None:
    route = "/api/users/{user_id}"
    before = requests_counted("GET", route, 404), latencies_counted("GET", route)

    for user_id in (uuid.uuid4(), uuid.uuid4()):
        response = await client.get(f"/api/users/{user_id}", headers=superuser_headers)
        assert response.status_code == 404, response.text

    assert requests_counted("GET", route, 404) == before[0] + 2
    assert latencies_counted("GET", route) == before[1] + 2


async def test_paths_that_match_no_route_share_one_label(client: AsyncClient) -> None:
    before = requests_counted("GET", UNMATCHED_ROUTE, 404)

    for path in ("/wp-login.php", "/api/nothing/here", "/.env"):
        assert (await client.get(path)).status_code == 404

    assert requests_counted("GET", UNMATCHED_ROUTE, 404) == before + 3
    sampled_routes = {
        sample.labels["route"]
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "http_requests_total"
    }
    assert not {"/wp-login.php", "/.env"} & sampled_routes


async def test_unknown_methods_share_one_label(client: AsyncClient) -> None:
    before = requests_counted("OTHER", UNMATCHED_ROUTE, 404)

    for method in ("FOO", "BAR", "PROPFIND"):
        response = await client.request(method, "/nothing-here")
        assert response.status_code == 404

    assert requests_counted("OTHER", UNMATCHED_ROUTE, 404) == before + 3
    methods = {
        sample.labels["method"]
        for metric in registry.collect()
        for sample in metric.samples
        if sample.name == "http_requests_total"
    }
    assert not {"FOO", "BAR", "PROPFIND"} & methods


async def test_metrics_are_served_only_to_a_bearer_of_the_token(
    transactions: Transactions,
) -> None:
    app = app_with(metrics_token=SecretStr(TOKEN))
    async with serve(app, transactions) as client:
        await client.get("/api/health")
        missing = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer wrong"})
        basic = await client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
        granted = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert requests_counted("GET", "/metrics", 401) >= 3
    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert "http_requests_total" not in refused.text
    assert granted.status_code == 200
    assert granted.headers["content-type"].startswith("text/plain")
    body = granted.text
    assert 'http_requests_total{method="GET",route="/api/health",status="200"}' in body
    assert "http_request_duration_seconds_bucket" in body
    assert 'db_pool_connections{state="checked_out"}' in body
    assert "db_pool_size" in body
    assert "process_cpu_seconds_total" in body or "python_gc_objects_collected_total" in body


async def test_no_metrics_route_without_a_token(transactions: Transactions) -> None:
    async with serve(app_with(metrics_token=None, metrics_port=None), transactions) as client:
        assert (await client.get("/metrics")).status_code == 404


async def test_a_metrics_port_takes_the_route_off_the_api(transactions: Transactions) -> None:
    app = app_with(metrics_token=SecretStr(TOKEN), metrics_port=9)
    async with serve(app, transactions) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404


async def test_the_metrics_port_serves_the_registry_without_a_token() -> None:
    server = MetricsServer("127.0.0.1", 0)
    port = server.start()
    try:

        def scrape() -> str:
            url = f"http://127.0.0.1:{port}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                return bytes(response.read()).decode()

        body = await asyncio.to_thread(scrape)
    finally:
        server.stop()
    assert "# TYPE http_requests_total counter" in body
    assert "db_pool_size" in body


async def test_the_lifespan_serves_metrics_on_the_port_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[int] = []

    def start(server: MetricsServer) -> int:
        started.append(server.port)
        return server.port

    monkeypatch.setattr(MetricsServer, "start", start)
    app = app_with(metrics_port=9464)

    async with app.router.lifespan_context(app):
        assert started == [9464]


async def test_a_taken_metrics_port_leaves_the_service_running(
    caplog: pytest.LogCaptureFixture,
) -> None:
    taken = MetricsServer("127.0.0.1", 0)
    port = taken.start()
    app = app_with(metrics_port=port)
    try:
        with caplog.at_level("WARNING"):
            async with app.router.lifespan_context(app):
                pass
    finally:
        taken.stop()
    assert f"port {port} is taken" in caplog.text


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("METRICS_TOKEN", "too-short", "METRICS_TOKEN: .*at least 32 characters"),
        ("METRICS_PORT", "70000", "METRICS_PORT: .*less than or equal to 65535"),
        (
            "SENTRY_TRACES_SAMPLE_RATE",
            "1.5",
            "SENTRY_TRACES_SAMPLE_RATE: .*less than or equal to 1",
        ),
    ],
)
def test_observability_settings_are_checked(
    name: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        load_settings()
