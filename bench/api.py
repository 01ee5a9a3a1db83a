"""The generated service's API as the benchmark uses it: its users, endpoints and login."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.commands import BenchError

# The users the benchmark inserts (bench/apps/seed.py) and signs in as.
PASSWORD = "bench-password-1234"
ADMIN_EMAIL = "admin@example.com"
USER_EMAIL = "user@example.com"
USER_ROWS = 1_000


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str
    as_user: str | None


ENDPOINTS = (
    Endpoint("health", "GET /api/health", "/api/health", None),
    Endpoint("users_me", "GET /api/users/me", "/api/users/me", USER_EMAIL),
    Endpoint("users_list", "GET /api/users?limit=50", "/api/users?limit=50", ADMIN_EMAIL),
)
USERS_ME = next(endpoint for endpoint in ENDPOINTS if endpoint.key == "users_me")
USERS_LIST = next(endpoint for endpoint in ENDPOINTS if endpoint.key == "users_list")


def http(
    method: str,
    url: str,
    *,
    form: Mapping[str, str] | None = None,
    token: str | None = None,
) -> tuple[int, Any]:
    """Send one request; return the status and the decoded JSON body (None if empty)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            status: int = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return status, json.loads(body) if body else None


def login(base: str, email: str, path: str = "/api/auth/token") -> tuple[str, float]:
    """Log in through the API (OAuth2's password form, posted to *path*); return the access
    token and the request's latency."""
    started = time.perf_counter()
    status, body = http("POST", base + path, form={"username": email, "password": PASSWORD})
    seconds = time.perf_counter() - started
    if status != 200:
        raise BenchError(f"login as {email} answered {status}: {body}")
    token: str = body["access_token"]
    return token, seconds


def check_endpoints(base: str, tokens: Mapping[str, str]) -> None:
    """Each endpoint answers 200 as the benchmark will call it; the list has every row."""
    for endpoint in ENDPOINTS:
        token = tokens[endpoint.as_user] if endpoint.as_user else None
        status, body = http("GET", base + endpoint.path, token=token)
        if status != 200:
            raise BenchError(f"{endpoint.label} answered {status}: {body}")
        if endpoint.key == "users_list" and (body["total"], len(body["items"])) != (USER_ROWS, 50):
            raise BenchError(f"{endpoint.label}: expected {USER_ROWS} rows, 50 per page: {body}")


def sign_in(base: str) -> dict[str, str]:
    """Tokens for the admin and the user, once every endpoint answers as expected."""
    tokens = {email: login(base, email)[0] for email in (ADMIN_EMAIL, USER_EMAIL)}
    check_endpoints(base, tokens)
    return tokens
