"""Request bodies over MAX_REQUEST_BODY_BYTES get a 413 without being read in full."""

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient, Response

from src.core.config import Settings, get_settings
from src.db.models import User
from src.db.session import Transactions
from src.main import create_app
from tests.conftest import PASSWORD, serve

LIMIT = 1024
CHUNK = 256


class Chunks:
    """A request body sent in chunks of CHUNK bytes, counting the chunks the app pulled."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            self.sent += 1
            yield b"x" * CHUNK


@pytest.fixture
async def limited(transactions: Transactions) -> AsyncIterator[AsyncClient]:
    """An app that takes bodies of at most LIMIT bytes, on the test session."""
    async with serve(create_app(Settings(max_request_body_bytes=LIMIT)), transactions) as client:
        yield client


def assert_too_large(response: Response, request_id: str) -> None:
    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "content_too_large",
            "message": f"The request body is larger than {LIMIT} bytes.",
            "request_id": request_id,
        }
    }
    assert response.headers["X-Request-ID"] == request_id
    assert response.headers["Connection"] == "close"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_default_limit_is_one_mebibyte() -> None:
    assert Settings.model_fields["max_request_body_bytes"].default == 1024 * 1024


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    limited: AsyncClient,
) -> None:
    body = Chunks(8)
    response = await limited.post(
        "/api/auth/refresh",
        content=body,
        headers={
            "Content-Length": str(8 * CHUNK),
            "Content-Type": "application/json",
            "X-Request-ID": "too-big-1",
        },
    )

    assert_too_large(response, "too-big-1")
    assert body.sent == 0


async def test_the_configured_limit_applies_to_the_app(client: AsyncClient) -> None:
    limit = get_settings().max_request_body_bytes

    response = await client.post(
        "/api/auth/refresh",
        content=b"{" + b" " * limit,
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "content_too_large"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/auth/refresh", "application/json"),
        ("/api/auth/token", "application/x-www-form-urlencoded"),
        ("/api/users", "application/json"),
    ],
)
async def test_a_streamed_body_over_the_limit_stops_at_the_limit(
    limited: AsyncClient, path: str, content_type: str
) -> None:
    body = Chunks(64)
    response = await limited.post(
        path, content=body, headers={"Content-Type": content_type, "X-Request-ID": "stream-2"}
    )

    assert "Content-Length" not in response.request.headers
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert_too_large(response, "stream-2")
    # Reading stopped with the chunk that went over the limit.
    assert body.sent == LIMIT // CHUNK + 1


async def test_a_body_at_the_limit_is_read(limited: AsyncClient) -> None:
    body = b'{"refresh_token": "not-a-token"}'.ljust(LIMIT)

    response = await limited.post(
        "/api/auth/refresh", content=body, headers={"Content-Type": "application/json"}
    )

    assert len(body) == LIMIT
    assert response.status_code == 401


async def test_a_streamed_body_at_the_limit_is_read(limited: AsyncClient) -> None:
    response = await limited.post(
        "/api/auth/refresh",
        content=Chunks(LIMIT // CHUNK),
        headers={"Content-Type": "application/json"},
    )

    # All LIMIT bytes were read, and they are not JSON.
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


async def test_requests_under_the_limit_work(limited: AsyncClient, user: User) -> None:
    login = await limited.post(
        "/api/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    assert login.status_code == 200

    refreshed = await limited.post(
        "/api/auth/refresh", json={"refresh_token": login.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200
