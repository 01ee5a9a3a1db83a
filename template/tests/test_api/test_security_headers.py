"""Security headers and caching rules on every response, whatever answered it."""

from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI, Response
from httpx import ASGITransport, AsyncClient
from httpx import Response as HttpxResponse

from src.core.config import Settings
from src.db.models import User
from src.main import create_app
from tests.conftest import PASSWORD

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def serve(app: FastAPI) -> AsyncClient:
    transport = ASGITransport(app=app, raise_app_exceptions=False)
    return AsyncClient(transport=transport, base_url="http://test")


def assert_hardened(response: HttpxResponse) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert "X-Request-ID" in response.headers


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/health", 200),
        ("GET", "/api/nothing-here", 404),
        ("PUT", "/api/health", 405),
        ("POST", "/api/users", 422),
        ("GET", "/api/users/me", 401),
    ],
)
async def test_every_response_is_hardened(
    client: AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, json={} if method == "POST" else None)

    assert response.status_code == status
    assert_hardened(response)
    assert response.headers["Content-Security-Policy"] == API_CSP


async def test_token_responses_are_not_stored(client: AsyncClient, user: User) -> None:
    login = await client.post(
        "/api/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )

    for response in (login, refreshed):
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"


async def test_the_docs_page_may_load_its_scripts_but_not_be_framed(
    client: AsyncClient,
) -> None:
    response = await client.get("/api/docs")

    assert response.status_code == 200
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
    assert_hardened(response)


async def test_unexpected_errors_are_hardened() -> None:
    app = create_app(Settings(hsts_seconds=60))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    async with serve(app) as client:
        response = await client.get("/boom")

    assert response.status_code == 500
    assert_hardened(response)
    assert response.headers["Strict-Transport-Security"] == "max-age=60; includeSubDomains"


async def test_a_cache_control_set_by_a_route_is_kept() -> None:
    app = create_app(Settings())

    @app.get("/cacheable")
    async def cacheable(response: Response) -> dict[str, str]:
        response.headers["Cache-Control"] = "public, max-age=60"
        return {}

    async with serve(app) as client:
        response = await client.get("/cacheable")

    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Pragma" not in response.headers
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_cors_preflight_is_hardened() -> None:
    app = create_app(Settings(cors_origins=["https://app.example"]))

    async with serve(app) as client:
        response = await client.options(
            "/api/health",
            headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        )

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example"
    assert_hardened(response)


async def test_no_hsts_when_off() -> None:
    async with serve(create_app(Settings(hsts_seconds=0))) as client:
        responses = [await client.get("/api/health"), await client.get("/api/nothing-here")]

    for response in responses:
        assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
async def hsts_client() -> AsyncIterator[AsyncClient]:
    async with serve(create_app(Settings(hsts_seconds=31536000))) as client:
        yield client


@pytest.mark.parametrize("path", ["/api/health", "/api/nothing-here"])
async def test_hsts_when_configured(hsts_client: AsyncClient, path: str) -> None:
    response = await hsts_client.get(path)

    expected = "max-age=31536000; includeSubDomains"
    assert response.headers["Strict-Transport-Security"] == expected


def test_hsts_is_off_by_default() -> None:
    assert Settings.model_fields["hsts_seconds"].default == 0
