"""Sentry: an unhandled error is reported, with the request id, when a DSN is set."""

import sentry_sdk
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr

from src.api.deps import get_transactions
from src.core.config import get_settings
from src.db.session import Transactions
from src.main import create_app
from src.observability.errors import REQUEST_ID_TAG, configure_sentry
from tests.test_observability.conftest import DSN, CapturedEvents


def serve(app: FastAPI, transactions: Transactions) -> AsyncClient:
    """A client that gets the 500 answer of an unhandled error, as a real client would."""
    app.dependency_overrides[get_transactions] = lambda: transactions
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    return AsyncClient(transport=transport, base_url="http://test")


def failing_app(transport: CapturedEvents) -> FastAPI:
    app = create_app(get_settings().model_copy(update={"sentry_dsn": SecretStr(DSN)}))
    sentry_sdk.get_client().transport = transport

    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("the disk is on fire")

    return app


async def test_an_unhandled_error_is_reported_with_its_request_id(
    reported: CapturedEvents, transactions: Transactions
) -> None:
    app = failing_app(reported)
    async with serve(app, transactions) as client:
        response = await client.get("/api/boom", headers={"X-Request-ID": "report-me-7"})
        sentry_sdk.flush()

    assert response.status_code == 500
    assert "disk" not in response.text
    errors = [event for event in reported.events if event.get("exception")]
    assert errors, reported.events
    exception = errors[0]["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"] == "the disk is on fire"
    assert errors[0]["tags"][REQUEST_ID_TAG] == "report-me-7"
    assert errors[0]["environment"] == "production"


async def test_client_errors_are_not_reported(
    reported: CapturedEvents, transactions: Transactions
) -> None:
    app = failing_app(reported)
    async with serve(app, transactions) as client:
        assert (await client.get("/api/users/me")).status_code == 401
        assert (await client.get("/api/nowhere")).status_code == 404
        sentry_sdk.flush()

    assert reported.events == []


def test_nothing_is_reported_without_a_dsn() -> None:
    assert not configure_sentry(get_settings().model_copy(update={"sentry_dsn": None}))
