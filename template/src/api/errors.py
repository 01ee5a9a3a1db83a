"""Exception handlers: every error leaves the service in the shape of `ErrorResponse`."""

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.routing import Match

from src.api.middleware import REQUEST_ID_HEADER, request_id_of
from src.core.exceptions import AppError, ConflictError, ServiceUnavailableError
from src.schemas.common import ErrorBody, ErrorResponse

logger = logging.getLogger(__name__)

_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def error_response(
    request: Request,
    status_code: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    request_id = request_id_of(request)
    body = ErrorResponse(
        error=ErrorBody(code=code, message=message, request_id=request_id, details=details)
    )
    response_headers = dict(headers or {})
    if request_id is not None:
        response_headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status_code, headers=response_headers
    )


async def app_error_handler(request: Request, exc: AppError) -> JSONResponse:
    return error_response(
        request,
        exc.status_code,
        exc.code,
        exc.detail,
        details=exc.response_details(),
        headers=exc.response_headers(),
    )


async def validation_error_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    # Only location, message and type: the rejected input may hold a password.
    details = [
        {"loc": list(error["loc"]), "msg": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    return error_response(
        request, 422, "validation_error", "The request is invalid.", details=details
    )


async def http_error_handler(request: Request, exc: HTTPException) -> JSONResponse:
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:  # a status code the standard library does not name
        phrase = "HTTP error"
    code = phrase.lower().replace(" ", "_").replace("-", "_")
    message = exc.detail if isinstance(exc.detail, str) else phrase
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return error_response(request, exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the path supports.

    Starlette names only the methods of the first route whose path matched, but `GET` and
    `POST /api/users` are two routes, and `Allow` must list the methods of both.
    """
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] is Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


async def integrity_error_handler(request: Request, exc: IntegrityError) -> JSONResponse:
    # A unique or foreign key constraint fired, usually because of a concurrent request.
    logger.info("integrity error: %s", exc.__class__.__name__)
    return error_response(request, 409, ConflictError.code, ConflictError.message)


async def database_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.error("database unavailable: %s", exc.__class__.__name__, exc_info=exc)
    error = ServiceUnavailableError
    return error_response(request, error.status_code, error.code, error.message)


async def unhandled_error_handler(request: Request, exc: Exception) -> JSONResponse:
    # Details go to the log, never to the client.
    logger.error("unhandled error", exc_info=exc, extra={"request_id": request_id_of(request)})
    return error_response(request, 500, "internal_error", "An unexpected error occurred.")
