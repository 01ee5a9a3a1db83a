"""Errors reported to Sentry when `SENTRY_DSN` is set: unhandled exceptions of requests
(and, with a worker, of tasks), tagged with the request id their log lines carry."""

import sentry_sdk
from sentry_sdk.types import Event, Hint
from starlette.types import ASGIApp, Receive, Scope, Send

from src.core.config import Settings
from src.core.logging import request_id_var

REQUEST_ID_TAG = "request_id"


def _tag_request_id(event: Event, _hint: Hint) -> Event:
    request_id = request_id_var.get()
    if request_id is not None:
        event.setdefault("tags", {})[REQUEST_ID_TAG] = request_id
    return event


def configure_sentry(settings: Settings) -> bool:
    """Start reporting to Sentry when a DSN is set; return whether it was.

    The release is `SENTRY_RELEASE` when set (Sentry reads it). Request bodies are never
    sent (they hold passwords), nor, by Sentry's defaults, addresses and cookies.
    """
    if settings.sentry_dsn is None:
        return False
    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        max_request_body_size="never",
        before_send=_tag_request_id,
    )
    return True


class SentryRequestIdMiddleware:
    """Pure ASGI middleware, inside the request-id one: tags what Sentry reports about the
    request, even after the id's context has ended (the last-resort handler runs outside)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope.get("state", {}).get("request_id")
        if scope["type"] == "http" and request_id is not None:
            sentry_sdk.get_isolation_scope().set_tag(REQUEST_ID_TAG, request_id)
        await self.app(scope, receive, send)
