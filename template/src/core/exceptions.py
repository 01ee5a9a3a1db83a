"""Domain exceptions. Services raise them; `src.api.errors` turns them into responses."""

from typing import ClassVar


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


class NotFoundError(AppError):
    status_code = 404
    code = "not_found"
    message = "The resource was not found."


class ConflictError(AppError):
    status_code = 409
    code = "conflict"
    message = "The resource conflicts with an existing one."


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
