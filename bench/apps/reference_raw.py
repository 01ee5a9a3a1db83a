"""For scale: the service's user lookups in a minimal FastAPI app over a raw asyncpg pool.

    python -m bench_apps.reference_raw PORT LOOP HTTP

No ORM, no Pydantic model, no gate: PyJWT checks the service's access token as the
service does (HS256, issuer, audience, required claims, type, token version), one asyncpg
pool of 10 runs the queries, and the JSON is built by hand, with the same fields and
values as the service's. It reads the secret, the issuer, the audience and the database
from the project's settings, so it accepts the tokens the service issues.

`GET /api/users/me`: the token's user, when active and the version matches.
`GET /api/users?limit=&offset=`: one page of users, for an active superuser.
"""

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any

import asyncpg
import jwt  # type: ignore[import-not-found]
from fastapi import FastAPI, Header, HTTPException, Query, Response
from src.core.config import get_settings

from .serve import serve

COLUMNS = "id, email, full_name, is_active, is_superuser, created_at, updated_at"
USER = f"SELECT {COLUMNS}, token_version FROM users WHERE id = $1"
PAGE = f"SELECT {COLUMNS} FROM users ORDER BY created_at, id LIMIT $1 OFFSET $2"
COUNT = "SELECT count(*) FROM users"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "type", "ver"]

settings = get_settings()
secret = settings.secret_key.get_secret_value()
pools: list[asyncpg.Pool] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = settings.database_url.replace("postgresql+asyncpg://", "postgresql://")
    pools.append(await asyncpg.create_pool(dsn, min_size=10, max_size=10))
    yield
    await pools[0].close()


app = FastAPI(lifespan=lifespan)


def _timestamp(value: datetime) -> str:
    # asyncpg returns timestamptz in UTC; Pydantic writes UTC as "Z".
    return value.isoformat().replace("+00:00", "Z")


def _user(row: Mapping[str, Any]) -> dict[str, object]:
    return {
        "id": str(row["id"]),
        "email": row["email"],
        "full_name": row["full_name"],
        "is_active": row["is_active"],
        "is_superuser": row["is_superuser"],
        "created_at": _timestamp(row["created_at"]),
        "updated_at": _timestamp(row["updated_at"]),
    }


def _json(body: object) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content, media_type="application/json")


async def _current_user(connection: asyncpg.Connection, authorization: str) -> Mapping[str, Any]:
    """The active user the bearer token names; 401 for anything else."""
    try:
        claims = jwt.decode(
            authorization.removeprefix("Bearer "),
            secret,
            algorithms=["HS256"],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
        )
        user_id = uuid.UUID(str(claims["sub"]))
    except (jwt.InvalidTokenError, ValueError):
        raise HTTPException(401) from None
    row: Mapping[str, Any] | None = await connection.fetchrow(USER, user_id)
    if (
        row is None
        or claims["type"] != "access"
        or type(claims["ver"]) is not int
        or not row["is_active"]
        or row["token_version"] != claims["ver"]
    ):
        raise HTTPException(401)
    return row


@app.get("/api/health")
async def health() -> Response:
    return _json({"status": "ok"})


@app.get("/api/users/me")
async def me(authorization: Annotated[str, Header()]) -> Response:
    async with pools[0].acquire() as connection:
        row = await _current_user(connection, authorization)
    return _json(_user(row))


@app.get("/api/users")
async def users(
    authorization: Annotated[str, Header()],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    async with pools[0].acquire() as connection:
        user = await _current_user(connection, authorization)
        if not user["is_superuser"]:
            raise HTTPException(403)
        rows = await connection.fetch(PAGE, limit, offset)
        total = await connection.fetchval(COUNT)
    page = {"items": [_user(row) for row in rows], "total": total, "limit": limit, "offset": offset}
    return _json(page)


if __name__ == "__main__":
    serve(app)
