"""Error responses for the OpenAPI schema. Every error has the shape of `ErrorResponse`.

Routes list the errors they can return, so clients and schema-driven tools know them:
`responses=error_responses(401, 404)`.
"""

from typing import Any

from src.schemas.common import ErrorResponse

Responses = dict[int | str, dict[str, Any]]

DESCRIPTIONS = {
    400: "Malformed request body",
    401: "Missing or invalid credentials",
    403: "Not allowed for this user",
    404: "Not found",
    409: "Conflicts with existing data",
    413: "Request body too large",
    422: "Invalid request",
    429: "Too many attempts; wait for the number of seconds in Retry-After",
    503: "Database unavailable",
}

_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {
        "description": "The authentication scheme to use",
        "schema": {"type": "string"},
    }
}


_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}


def error_responses(*status_codes: int) -> Responses:
    responses: Responses = {}
    for status_code in status_codes:
        response: dict[str, Any] = {
            "model": ErrorResponse,
            "description": DESCRIPTIONS[status_code],
        }
        if status_code == 401:
            response["headers"] = _WWW_AUTHENTICATE
        if status_code == 429:
            response["headers"] = _RETRY_AFTER
        responses[status_code] = response
    return responses
