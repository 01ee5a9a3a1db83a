from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel

# Text without control characters: PostgreSQL refuses NUL in text columns, and line breaks
# or terminal escapes have no place in names, which end up in logs and user interfaces.
NO_CONTROL_CHARACTERS = r"^[^\x00-\x1f\x7f]*$"


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
