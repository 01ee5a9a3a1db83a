"""The error shape, request ids and CORS, on the real app and on throwaway apps."""

import io
import json
import logging
import socket
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.exc import IntegrityError, OperationalError

from src.core.config import get_settings
from src.core.logging import JsonFormatter, RequestIdFilter
from src.main import create_app

# How a database that cannot be reached shows up, depending on where the driver fails.
OUTAGES: dict[str, Exception] = {
    "operational": OperationalError("SELECT 1", {}, Exception("connection refused")),
    "refused": ConnectionRefusedError(111, "Connection refused"),
    "timeout": TimeoutError(),
    "unknown-host": socket.gaierror(-2, "Name or service not known"),
}


@pytest.fixture
async def broken_app() -> AsyncIterator[AsyncClient]:
    """An app with routes that fail in the ways the handlers must cope with."""
    app: FastAPI = create_app()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    @app.get("/duplicate")
    async def duplicate() -> None:
        raise IntegrityError("INSERT ...", {}, Exception("UNIQUE constraint failed"))

    @app.get("/database-down/{reason}")
    async def database_down(reason: str) -> None:
        raise OUTAGES[reason]

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


async def test_unexpected_errors_become_a_500_without_details(broken_app: AsyncClient) -> None:
    response = await broken_app.get("/boom", headers={"X-Request-ID": "trace-me-123"})

    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "internal_error",
            "message": "An unexpected error occurred.",
            "request_id": "trace-me-123",
        }
    }
    assert response.headers["X-Request-ID"] == "trace-me-123"
    assert "secret internals" not in response.text


async def test_integrity_errors_become_a_409(broken_app: AsyncClient) -> None:
    response = await broken_app.get("/duplicate")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "UNIQUE" not in response.text


@pytest.mark.parametrize("reason", OUTAGES)
async def test_database_outages_become_a_503(broken_app: AsyncClient, reason: str) -> None:
    response = await broken_app.get(f"/database-down/{reason}")

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


async def test_unknown_routes_use_the_error_shape(client: AsyncClient) -> None:
    response = await client.get("/api/nothing-here")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_wrong_methods_use_the_error_shape(client: AsyncClient) -> None:
    response = await client.put("/api/health")

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [("PUT", "/api/users", "GET, POST"), ("OPTIONS", "/api/users/me", "DELETE, GET, PATCH")],
)
async def test_allow_lists_every_method_of_the_path(
    client: AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path)

    assert response.status_code == 405
    assert response.headers["Allow"] == allow


async def test_a_body_that_cannot_be_decoded_uses_the_error_shape(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users", content=b"\xff\xfe{", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"


async def test_request_id_is_generated(client: AsyncClient) -> None:
    response = await client.get("/api/health")

    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32
    assert request_id.isalnum()


async def test_request_id_is_echoed(client: AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "abc-123.DEF:4_5"})

    assert response.headers["X-Request-ID"] == "abc-123.DEF:4_5"


@pytest.mark.parametrize("sent", ["x" * 129, "has space", "new\tline", "<script>", ""])
async def test_unsafe_request_ids_are_replaced(client: AsyncClient, sent: str) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": sent})

    assert response.headers["X-Request-ID"] != sent
    assert len(response.headers["X-Request-ID"]) == 32


async def test_log_lines_of_a_request_carry_its_id(client: AsyncClient) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    access_log = logging.getLogger("src.access")
    access_log.addHandler(handler)
    level = access_log.level
    access_log.setLevel(logging.INFO)
    try:
        await client.get("/api/health", headers={"X-Request-ID": "log-me-7"})
    finally:
        access_log.removeHandler(handler)
        access_log.setLevel(level)

    entry = json.loads(stream.getvalue().splitlines()[-1])
    assert entry["request_id"] == "log-me-7"
    assert entry["path"] == "/api/health"
    assert entry["status"] == 200


async def test_error_bodies_carry_the_request_id(client: AsyncClient) -> None:
    response = await client.get("/api/users/me", headers={"X-Request-ID": "req-42"})

    assert response.json()["error"]["request_id"] == "req-42"
    assert response.headers["X-Request-ID"] == "req-42"


async def test_cors_allows_configured_origins() -> None:
    settings = get_settings().model_copy(update={"cors_origins": ["https://app.example"]})
    transport = ASGITransport(app=create_app(settings))
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.options(
            "/api/health",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert "X-Request-ID" in response.headers
