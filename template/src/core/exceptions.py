"""Domain exceptions. Services raise them; `src.api.errors` turns them into responses."""

from collections.abc import Iterable
from typing import Any, ClassVar


class AppError(Exception):
    """Base class for errors the client is meant to see."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[str] = "The request could not be processed."
    headers: ClassVar[dict[str, str] | None] = None

    def __init__(self, message: str | None = None) -> None:
        self.detail = message or self.message
        super().__init__(self.detail)

    def response_headers(self) -> dict[str, str] | None:
        """Headers the error response carries."""
        return self.headers

    def response_details(self) -> list[dict[str, Any]] | None:
        """The `details` of the error response, if it has any."""
        return None


class NotFoundError(AppError):
    status_code = 404
    code = "not_found"
    message = "The resource was not found."


class ConflictError(AppError):
    status_code = 409
    code = "conflict"
    message = "The resource conflicts with an existing one."


class InvalidReferenceError(AppError):
    """An id in the request names no row the user may refer to (none, or another user's).

    Answered like a validation error, with one detail per field, so that clients handle
    both alike.
    """

    status_code = 422
    code = "validation_error"
    message = "The request refers to something that does not exist."

    def __init__(self, fields: Iterable[str]) -> None:
        self.fields = list(fields)
        names = ", ".join(self.fields) or "the request"
        super().__init__(f"No row the request may refer to has the id given in {names}.")

    def response_details(self) -> list[dict[str, Any]]:
        return [
            {"loc": ["body", field], "msg": "Not found", "type": "reference_not_found"}
            for field in self.fields
        ]


class UnauthorizedError(AppError):
    status_code = 401
    code = "unauthorized"
    message = "Could not validate credentials."
    headers = {"WWW-Authenticate": "Bearer"}  # noqa: RUF012


class ForbiddenError(AppError):
    status_code = 403
    code = "forbidden"
    message = "You do not have permission to perform this action."


class ServiceUnavailableError(AppError):
    status_code = 503
    code = "service_unavailable"
    message = "The service is temporarily unavailable."


class TooManyRequestsError(AppError):
    """A rate limit was reached; the client may try again after `retry_after` seconds."""

    status_code = 429
    code = "too_many_requests"
    message = "Too many attempts; try again later."

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
