from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel
from pydantic_core import PydanticCustomError

# Characters no text field accepts, as the body of a regex character class: the Unicode
# categories Cc (controls: NUL, which PostgreSQL cannot store, line breaks, terminal
# escapes), Cf (format: bidi overrides and isolates, zero-width spaces and joiners, the soft
# hyphen, tags) and Zl, Zp (line and paragraph separators), as of Unicode 15.1. Names end up
# in logs and user interfaces, where these characters hide or reorder text.
#
# The rules are plain regexes so that the OpenAPI document states them as `pattern`s, which
# is what clients and schema-driven test tools go by. Characters beyond the Basic
# Multilingual Plane are written as themselves (no `r` prefix below), which Pydantic's and
# Python's regex engines, and JSON Schema validators (with Unicode semantics), all read.
_CONTROLS = r"\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F"  # Cc but tab, LF, CR
_TAB_AND_LINE_BREAKS = r"\t\n\r"
_FORMAT_AND_SEPARATORS = (
    r"\u00AD\u0600-\u0605\u061C\u06DD\u070F\u0890\u0891\u08E2\u180E\u200B-\u200F"
    r"\u2028-\u202E\u2060-\u206F\uFEFF\uFFF9-\uFFFB"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
REFUSED_CHARACTERS = _CONTROLS + _TAB_AND_LINE_BREAKS + _FORMAT_AND_SEPARATORS
# Spaces (category Zs): allowed, but not as the whole of a value.
_SPACES = r"\u0020\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000"

# Any text without the refused characters, blank included (e.g. a login name).
NO_CONTROL_CHARACTERS = f"^[^{REFUSED_CHARACTERS}]*$"
# One line with a visible character in it (names, titles): whitespace alone is refused.
SINGLE_LINE_TEXT = f"^[{_SPACES}]*[^{REFUSED_CHARACTERS}{_SPACES}][^{REFUSED_CHARACTERS}]*$"
# The same, but tabs and line breaks are allowed too (longer texts).
MULTILINE_TEXT = (
    f"^[{_SPACES}{_TAB_AND_LINE_BREAKS}]*"
    f"[^{REFUSED_CHARACTERS}{_SPACES}][^{_CONTROLS}{_FORMAT_AND_SEPARATORS}]*$"
)


def _in_utc(value: datetime) -> datetime:
    """The same instant in UTC, or a validation error if UTC has no date for it."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 9999-12-31T23:59:59-14:00 is in year 10000 in UTC, 0001-01-01T00:00:00+14:00
        # in year 0: neither can be stored, or compared with other datetimes.
        raise PydanticCustomError(
            "datetime_out_of_range", "Datetime must fall within years 1 to 9999 in UTC"
        ) from None


# A datetime with a time zone, handed on in UTC: every datetime a client sends. Values that
# fall outside of years 1 to 9999 once in UTC are refused like any other invalid input.
AwareUTCDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str | None = None
    details: list[dict[str, Any]] | None = None


class ErrorResponse(BaseModel):
    """The shape of every error response."""

    error: ErrorBody


ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    items: list[ItemT]
    total: int
    limit: int
    offset: int


class HealthStatus(BaseModel):
    status: Literal["ok"] = "ok"
