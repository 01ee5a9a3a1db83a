"""For scale: `GET /api/users/me` in a minimal FastAPI app, through the ORM without a gate.

    python -m bench_apps.reference_orm PORT LOOP HTTP

It uses the project's settings, token decoding, model and schema; a pool of 10 + 5.
"""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, Header, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from src.core.config import get_settings
from src.core.security import decode_access_token
from src.db.models import User
from src.schemas.user import UserRead

from .serve import serve

engine = create_async_engine(get_settings().database_url, pool_size=10, max_overflow=5)
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def get_db() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


@app.get("/api/users/me")
async def me(
    authorization: Annotated[str, Header()],
    session: Annotated[AsyncSession, Depends(get_db)],
) -> UserRead:
    claims = decode_access_token(authorization.removeprefix("Bearer "))
    user = await session.get(User, claims.user_id) if claims else None
    if user is None:
        raise HTTPException(401)
    return UserRead.model_validate(user)


if __name__ == "__main__":
    serve(app)
