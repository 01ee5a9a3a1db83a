"""OpenTelemetry traces of requests and of the SQL they run, configured only by the
standard `OTEL_*` variables.

- `OTEL_TRACES_EXPORTER`: `otlp`, `console` or `none` (a comma-separated list). Unset,
  it is `otlp` when an OTLP endpoint is set and `none` otherwise, so a service with
  nowhere to send its spans spends nothing on them.
- `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`), `OTEL_EXPORTER_OTLP_HEADERS`:
  where the OTLP exporter sends spans (HTTP/protobuf).
- `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`: what the spans say they come from.
- `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`: which traces are kept.
- `OTEL_SDK_DISABLED=true`: no tracing at all.

Every span started while a request is served carries its id as `request.id`, the id
of its log lines and of its `X-Request-ID` header.
"""

import os
from typing import Final

from fastapi import FastAPI
from opentelemetry import context, trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Receive, Scope, Send

from src.core.config import SettingsError
from src.core.logging import request_id_var

REQUEST_ID_ATTRIBUTE: Final = "request.id"
EXPORTERS: Final = ("otlp", "console", "none")


class TracingConfigError(SettingsError):
    """An `OTEL_*` variable names something this service cannot do."""


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() == "true"


def exporter_names() -> list[str]:
    """The exporters `OTEL_TRACES_EXPORTER` asks for (see the module's docstring)."""
    if _flag("OTEL_SDK_DISABLED"):
        return []
    configured = os.environ.get("OTEL_TRACES_EXPORTER", "").strip()
    if not configured:
        endpoints = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        return ["otlp"] if any(os.environ.get(name) for name in endpoints) else []
    names = [name.strip().lower() for name in configured.split(",") if name.strip()]
    unknown = [name for name in names if name not in EXPORTERS]
    if unknown:
        raise TracingConfigError(
            f"OTEL_TRACES_EXPORTER={configured!r}: this service exports spans with "
            f"{', '.join(EXPORTERS)}, not {', '.join(unknown)}"
        )
    return [name for name in names if name != "none"]


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    # Imported only when used: the exporter pulls in protobuf and requests.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def service_resource(default_name: str) -> Resource:
    """The resource from `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`; the service's
    own name when neither names it."""
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: default_name}))
    return resource


class RequestIdSpanProcessor(SpanProcessor):
    """Tags each span started while a request is served with the request's id."""

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        request_id = request_id_var.get()
        if request_id is not None:
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)

    def on_end(self, span: ReadableSpan) -> None:
        pass


class RequestIdSpanMiddleware:
    """Pure ASGI middleware, inside the request-id one: tags the request's server span,
    which starts before the id is known."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope.get("state", {}).get("request_id")
        if scope["type"] == "http" and request_id is not None:
            trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        await self.app(scope, receive, send)


def tracer_provider(exporters: list[SpanExporter], service_name: str) -> TracerProvider:
    """A provider (sampled as `OTEL_TRACES_SAMPLER` says) that batches spans to *exporters*."""
    provider = TracerProvider(resource=service_resource(service_name))
    provider.add_span_processor(RequestIdSpanProcessor())
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def instrument(app: FastAPI, engine: AsyncEngine, provider: TracerProvider) -> None:
    """Trace *app*'s requests and *engine*'s SQL with *provider*.

    Health checks and metric scrapes are left out unless `OTEL_PYTHON_FASTAPI_EXCLUDED_URLS`
    says otherwise: they would be most of the spans and tell nothing. So are the spans of
    each ASGI message (`http send`): several per request, telling nothing its span does not.
    """
    excluded = os.environ.get("OTEL_PYTHON_FASTAPI_EXCLUDED_URLS", "/api/health,/metrics")
    # One span per request, not one more per message sent or received (`http send`).
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=excluded,
        exclude_spans=["receive", "send"],
    )
    app.add_middleware(RequestIdSpanMiddleware)
    # The instrumentation declares SQLAlchemy < 2.1 only; the tests prove it traces 2.1.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=provider, skip_dep_check=True
    )


def uninstrument(app: FastAPI) -> None:
    FastAPIInstrumentor.uninstrument_app(app)
    SQLAlchemyInstrumentor().uninstrument()


def configure_tracing(
    app: FastAPI, engine: AsyncEngine, service_name: str
) -> TracerProvider | None:
    """Trace *app* as the `OTEL_*` variables say; `None` when they ask for no exporter."""
    names = exporter_names()
    if not names:
        return None
    provider = tracer_provider([_exporter(name) for name in names], service_name)
    trace.set_tracer_provider(provider)
    instrument(app, engine, provider)
    return provider
