"""Datetimes from clients: aware, within years 1 to 9999 in UTC, and handed on in UTC."""

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError

from src.schemas.common import AwareUTCDatetime

ADAPTER = TypeAdapter(AwareUTCDatetime)
# Valid ISO 8601 datetimes whose instant is in year 10000 or year 0 in UTC.
BEYOND_UTC = [
    "9999-12-31T23:59:59-14:00",
    "9999-12-31T23:59:59.999999-00:01",
    "0001-01-01T00:00:00+14:00",
    "0001-01-01T00:00:00.000001+00:01",
]


@pytest.mark.parametrize("value", BEYOND_UTC)
def test_a_datetime_beyond_the_range_of_utc_is_refused(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_json(f'"{value}"')

    [error] = caught.value.errors()
    assert error["type"] == "datetime_out_of_range"
    assert error["msg"] == "Datetime must fall within years 1 to 9999 in UTC"


@pytest.mark.parametrize(
    ("value", "in_utc"),
    [
        ("9999-12-31T23:59:59+14:00", datetime(9999, 12, 31, 9, 59, 59, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("0001-01-01T00:00:00-14:00", datetime(1, 1, 1, 14, tzinfo=UTC)),
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("2024-06-30T23:30:00-02:30", datetime(2024, 7, 1, 2, tzinfo=UTC)),
    ],
)
def test_a_datetime_within_the_range_is_handed_on_in_utc(value: str, in_utc: datetime) -> None:
    validated = ADAPTER.validate_json(f'"{value}"')

    assert validated == in_utc
    assert validated.tzinfo is UTC


def test_a_datetime_without_a_time_zone_is_still_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        ADAPTER.validate_json('"2024-01-15T09:30:00"')

    assert [error["type"] for error in caught.value.errors()] == ["timezone_aware"]
