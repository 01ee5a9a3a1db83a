"""OpenTelemetry: a request makes spans, SQL included, each tagged with the request id."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

import src.main
from src.core.config import get_settings
from src.db.session import Transactions
from src.observability.tracing import (
    REQUEST_ID_ATTRIBUTE,
    RequestIdSpanProcessor,
    TracingConfigError,
    configure_tracing,
    exporter_names,
    instrument,
    service_resource,
    uninstrument,
)
from tests.conftest import serve

OTEL_VARIABLES = (
    "OTEL_SDK_DISABLED",
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
    "OTEL_RESOURCE_ATTRIBUTES",
)


@pytest.fixture(autouse=True)
def _no_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced_app(
    engine: AsyncEngine, exporter: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> Iterator[FastAPI]:
    """The app, set up as the service sets it up, tracing the test database's engine into
    *exporter*."""
    provider = TracerProvider()
    provider.add_span_processor(RequestIdSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def configure_tracing(app: FastAPI, _engine: AsyncEngine, service_name: str) -> TracerProvider:
        instrument(app, engine, provider)
        return provider

    monkeypatch.setattr(src.main, "configure_tracing", configure_tracing)
    app = src.main.create_app(get_settings())
    yield app
    uninstrument(app)
    provider.shutdown()


async def test_a_request_makes_spans_tagged_with_its_request_id(
    traced_app: FastAPI,
    transactions: Transactions,
    exporter: InMemorySpanExporter,
    superuser_headers: dict[str, str],
) -> None:
    async with serve(traced_app, transactions) as client:
        response = await client.get(
            "/api/users", headers=superuser_headers | {"X-Request-ID": "trace-me-1"}
        )

    assert response.status_code == 200
    spans = exporter.get_finished_spans()
    (server,) = [span for span in spans if span.kind is SpanKind.SERVER]
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/users"
    # The request's span and its queries: no span per ASGI message.
    assert not [span.name for span in spans if span.name.endswith((" http send", " http receive"))]
    assert server.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me-1"
    queries = [
        span
        for span in spans
        if span.attributes
        and "db.statement" in span.attributes
        and span.context.trace_id == server.context.trace_id
    ]
    assert queries, [span.name for span in spans]
    for query in queries:
        assert query.attributes is not None
        assert query.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me-1"


async def test_each_request_gets_its_own_trace_and_id(
    traced_app: FastAPI, transactions: Transactions, exporter: InMemorySpanExporter
) -> None:
    async with serve(traced_app, transactions) as client:
        first = await client.get("/api/users/me")
        second = await client.get("/api/users/me")

    servers = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert [span.attributes[REQUEST_ID_ATTRIBUTE] for span in servers if span.attributes] == [
        first.headers["X-Request-ID"],
        second.headers["X-Request-ID"],
    ]
    assert servers[0].context.trace_id != servers[1].context.trace_id


async def test_health_checks_are_not_traced(
    traced_app: FastAPI, transactions: Transactions, exporter: InMemorySpanExporter
) -> None:
    async with serve(traced_app, transactions) as client:
        response = await client.get("/api/health")
    assert response.status_code == 200
    # Only the test's own set-up queries, if any: nothing of the request.
    for span in exporter.get_finished_spans():
        assert span.kind is not SpanKind.SERVER
        assert span.attributes is not None
        assert REQUEST_ID_ATTRIBUTE not in span.attributes


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({}, []),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, ["otlp"]),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, ["otlp"]),
        ({"OTEL_TRACES_EXPORTER": "console"}, ["console"]),
        ({"OTEL_TRACES_EXPORTER": "otlp, console"}, ["otlp", "console"]),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}, []),
    ],
)
def test_the_otel_variables_choose_the_exporters(
    variables: dict[str, str], expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert exporter_names() == expected


def test_an_unknown_exporter_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp,zipkin")
    with pytest.raises(TracingConfigError, match="not zipkin"):
        exporter_names()


def test_the_service_names_its_spans_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert service_resource("shop").attributes["service.name"] == "shop"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    assert service_resource("shop").attributes["service.name"] == "checkout"


def test_no_exporter_means_no_instrumentation(engine: AsyncEngine) -> None:
    app = src.main.create_app(get_settings())
    assert configure_tracing(app, engine, service_name="shop") is None
    assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
