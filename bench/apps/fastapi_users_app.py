"""For scale: fastapi-users set up the way its documentation's full example does it.

    python -m bench_apps.fastapi_users_app PORT LOOP HTTP
    python -m bench_apps.fastapi_users_app setup EMAIL PASSWORD

Unlike the other programs here, this one never runs in the generated project: the
benchmark creates an environment of its own for it with uv (fastapi-users[sqlalchemy],
asyncpg and uvicorn[standard] from PyPI) and a database of its own on the same PostgreSQL
server. DATABASE_URL (postgresql+asyncpg://...) and SECRET come from the environment.

As in the documentation: a SQLAlchemy async engine with its default pool, the UUID user
table, a user manager, a bearer transport with the JWT strategy, and the library's
routers; `GET /api/users/me` is the users router's route behind `current_active_user`.
`setup` creates the tables from the models and one active user, as the documentation's
"create a user programmatically" does; the benchmark then logs in through
`POST /api/auth/jwt/login` for a token. The routes sit under /api so that every app the
benchmark compares answers on the same paths.
"""

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi_users import (  # type: ignore[import-not-found]
    BaseUserManager,
    FastAPIUsers,
    UUIDIDMixin,
    schemas,
)
from fastapi_users.authentication import (  # type: ignore[import-not-found]
    AuthenticationBackend,
    BearerTransport,
    JWTStrategy,
)
from fastapi_users.db import (  # type: ignore[import-not-found]
    SQLAlchemyBaseUserTableUUID,
    SQLAlchemyUserDatabase,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from .serve import serve

DATABASE_URL = os.environ["DATABASE_URL"]
SECRET = os.environ["SECRET"]
# A day, as the generated service's tokens in the benchmark: longer than any run.
TOKEN_LIFETIME_SECONDS = 86_400


# The database: models, engine, sessions.
class Base(DeclarativeBase):  # type: ignore[misc]
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):  # type: ignore[misc]
    pass


engine = create_async_engine(DATABASE_URL)
async_session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def create_db_and_tables() -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)


async def get_async_session() -> AsyncIterator[AsyncSession]:
    async with async_session_maker() as session:
        yield session


async def get_user_db(
    session: Annotated[AsyncSession, Depends(get_async_session)],
) -> AsyncIterator[Any]:
    yield SQLAlchemyUserDatabase(session, User)


# The schemas.
class UserRead(schemas.BaseUser[uuid.UUID]):  # type: ignore[misc]
    pass


class UserCreate(schemas.BaseUserCreate):  # type: ignore[misc]
    pass


class UserUpdate(schemas.BaseUserUpdate):  # type: ignore[misc]
    pass


# The user manager and the authentication backend.
class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):  # type: ignore[misc]
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db: Annotated[Any, Depends(get_user_db)]) -> AsyncIterator[Any]:
    yield UserManager(user_db)


bearer_transport = BearerTransport(tokenUrl="api/auth/jwt/login")


def get_jwt_strategy() -> Any:
    return JWTStrategy(secret=SECRET, lifetime_seconds=TOKEN_LIFETIME_SECONDS)


auth_backend = AuthenticationBackend(
    name="jwt", transport=bearer_transport, get_strategy=get_jwt_strategy
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [auth_backend])
current_active_user = fastapi_users.current_user(active=True)


# The app.
@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    await create_db_and_tables()
    yield


app = FastAPI(lifespan=lifespan)
app.include_router(
    fastapi_users.get_auth_router(auth_backend), prefix="/api/auth/jwt", tags=["auth"]
)
app.include_router(
    fastapi_users.get_register_router(UserRead, UserCreate), prefix="/api/auth", tags=["auth"]
)
app.include_router(fastapi_users.get_reset_password_router(), prefix="/api/auth", tags=["auth"])
app.include_router(fastapi_users.get_verify_router(UserRead), prefix="/api/auth", tags=["auth"])
app.include_router(
    fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/api/users", tags=["users"]
)


@app.get("/api/authenticated-route")
async def authenticated_route(user: Annotated[User, Depends(current_active_user)]) -> Any:
    return {"message": f"Hello {user.email}!"}


# Creating a user outside a request, as the documentation shows.
get_async_session_context = contextlib.asynccontextmanager(get_async_session)
get_user_db_context = contextlib.asynccontextmanager(get_user_db)
get_user_manager_context = contextlib.asynccontextmanager(get_user_manager)


async def setup(email: str, password: str) -> None:
    """The tables from the models, and one active user."""
    await create_db_and_tables()
    async with (
        get_async_session_context() as session,
        get_user_db_context(session) as user_db,
        get_user_manager_context(user_db) as user_manager,
    ):
        await user_manager.create(UserCreate(email=email, password=password))
    await engine.dispose()


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        asyncio.run(setup(sys.argv[2], sys.argv[3]))
    else:
        serve(app)
