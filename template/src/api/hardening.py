"""HTTP hardening: a limit on request bodies, and security headers on every response.

Both are pure ASGI middleware, so they see every request and response, including those
answered before a route runs (404, 405, CORS preflight).
"""

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.api.errors import error_response

# JSON responses need no content at all; the Swagger UI page loads scripts and styles from
# a CDN, so HTML only refuses to be framed.
API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
HTML_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'"


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


def add_security_headers(headers: MutableHeaders, *, hsts_seconds: int = 0) -> None:
    """Add the security headers a response has not set itself."""
    if "cache-control" not in headers:
        # Responses carry per-user data and tokens (RFC 6749 §5.1): never store them.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    is_html = headers.get("content-type", "").lower().startswith("text/html")
    headers.setdefault(
        "Content-Security-Policy",
        HTML_CONTENT_SECURITY_POLICY if is_html else API_CONTENT_SECURITY_POLICY,
    )
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if hsts_seconds > 0:
        headers.setdefault(
            "Strict-Transport-Security", f"max-age={hsts_seconds}; includeSubDomains"
        )


class SecurityHeadersMiddleware:
    """Adds the security headers (and HSTS when `hsts_seconds` > 0) to every response."""

    def __init__(self, app: ASGIApp, *, hsts_seconds: int = 0) -> None:
        self.app = app
        self.hsts_seconds = hsts_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                add_security_headers(MutableHeaders(scope=message), hsts_seconds=self.hsts_seconds)
            await send(message)

        await self.app(scope, receive, send_with_headers)
