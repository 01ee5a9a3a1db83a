"""HTTP hardening: a limit on request bodies.

Pure ASGI middleware, so it sees every request, including those answered before a route
runs (404, 405, CORS preflight).
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.api.errors import error_response


class RequestBodyTooLargeError(HTTPException):
    """Raised from `receive` once the body read so far passes the limit.

    An `HTTPException` because FastAPI re-raises those while it reads a body, and turns any
    other exception into a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413)
        self.limit = limit


def body_too_large_response(request: Request, limit: int) -> JSONResponse:
    # The rest of the body is never read: the connection closes after the answer.
    return error_response(
        request,
        413,
        "content_too_large",
        f"The request body is larger than {limit} bytes.",
        headers={"Connection": "close"},
    )


async def body_too_large_handler(request: Request, exc: RequestBodyTooLargeError) -> JSONResponse:
    return body_too_large_response(request, exc.limit)


def _declared_length(scope: Scope) -> int | None:
    value = Headers(scope=scope).get("content-length", "").strip()
    if not (value.isascii() and value.isdigit()):
        return None  # absent (chunked) or malformed: the bytes are counted instead
    return int(value)


class BodySizeLimitMiddleware:
    """Refuses request bodies over `max_body_bytes` with a 413, without buffering them.

    A declared `Content-Length` over the limit is refused before the body is read; otherwise
    the bytes are counted as they arrive (chunked bodies too), and reading stops at the limit.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        limit = self.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            response = body_too_large_response(Request(scope), limit)
            await response(scope, receive, send)
            return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestBodyTooLargeError(limit)
            return message

        await self.app(scope, limited_receive, send)
