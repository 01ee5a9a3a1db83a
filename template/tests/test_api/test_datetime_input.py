"""Datetimes in request bodies: out-of-range instants are a 422 naming the field, not a 500."""

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from src.core.config import get_settings
from src.main import create_app
from src.schemas.common import AwareUTCDatetime


class Window(BaseModel):
    starts_at: AwareUTCDatetime
    ends_at: AwareUTCDatetime | None = None


@pytest.fixture
async def window_client() -> AsyncIterator[AsyncClient]:
    """The service, with one more route that takes datetimes as resources do."""
    app = create_app(get_settings())

    @app.post("/api/windows")
    async def echo_window(window: Window) -> Window:
        return window

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client:
        yield client


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
async def test_a_datetime_beyond_utc_is_a_validation_error(
    window_client: AsyncClient, field: str, value: str
) -> None:
    payload = {"starts_at": "2024-01-15T09:30:00Z", field: value}

    response = await window_client.post("/api/windows", json=payload)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {
            "loc": ["body", field],
            "msg": "Datetime must fall within years 1 to 9999 in UTC",
            "type": "datetime_out_of_range",
        }
    ]


async def test_datetimes_at_the_edges_come_back_in_utc(window_client: AsyncClient) -> None:
    payload = {"starts_at": "0001-01-01T00:00:00-14:00", "ends_at": "9999-12-31T23:59:59+14:00"}

    response = await window_client.post("/api/windows", json=payload)

    assert response.status_code == 200
    assert response.json() == {
        "starts_at": "0001-01-01T14:00:00Z",
        "ends_at": "9999-12-31T09:59:59Z",
    }
