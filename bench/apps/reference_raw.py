"""For scale: `GET /api/users/me` in a minimal FastAPI app, through a raw asyncpg pool of 10.

    python -m bench_apps.reference_raw PORT LOOP HTTP

It uses the project's settings and token decoding.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
from fastapi import FastAPI, Header, HTTPException
from src.core.config import get_settings
from src.core.security import decode_access_token

from .serve import serve

QUERY = (
    "SELECT id, email, full_name, is_active, is_superuser, created_at, updated_at "
    "FROM users WHERE id = $1"
)
pools: list[asyncpg.Pool] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    dsn = get_settings().database_url.replace("postgresql+asyncpg://", "postgresql://")
    pools.append(await asyncpg.create_pool(dsn, min_size=10, max_size=10))
    yield
    await pools[0].close()


app = FastAPI(lifespan=lifespan)


@app.get("/api/users/me")
async def me(authorization: Annotated[str, Header()]) -> dict[str, object]:
    claims = decode_access_token(authorization.removeprefix("Bearer "))
    row = await pools[0].fetchrow(QUERY, claims.user_id) if claims else None
    if row is None:
        raise HTTPException(401)
    return dict(row)


if __name__ == "__main__":
    serve(app)
