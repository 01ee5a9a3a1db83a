"""Request dependencies: settings, database transactions and the authenticated user."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.config import Settings
from src.core.exceptions import ForbiddenError, UnauthorizedError
from src.core.security import AccessClaims, decode_access_token
from src.db.models import User
from src.db.session import Transactions, transaction
from src.services.auth import AuthService

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


def get_transactions() -> Transactions:
    """How requests open a unit of work; the tests put a rolled-back one in its place."""
    return transaction


TransactionsDep = Annotated[Transactions, Depends(get_transactions)]


def get_app_settings(request: Request) -> Settings:
    """The settings the app was created with (`create_app(settings)`)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_client_address(request: Request) -> str:
    """The client's IP address, as the server saw it.

    Behind a reverse proxy this is the proxy, unless uvicorn is told to trust its
    `X-Forwarded-For` (`--forwarded-allow-ips`); see the README.
    """
    return request.client.host if request.client else "unknown"


ClientAddress = Annotated[str, Depends(get_client_address)]


async def get_db(transactions: TransactionsDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the endpoint succeeds, rolled back if not."""
    async with transactions() as session:
        yield session


# scope="function": the commit runs before the response is sent, so a client never sees
# a success for data that failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_access_claims(token: Annotated[str | None, Depends(oauth2_scheme)]) -> AccessClaims:
    """The checked claims of the bearer token; 401 without one or for an invalid one.

    Needs no database: a request with a bad token is refused before it waits for a
    slot of the checkout gate or a connection.
    """
    if not token:
        raise UnauthorizedError("Not authenticated.")
    claims = decode_access_token(token)
    if claims is None:
        raise UnauthorizedError()
    return claims


# The claims come first: FastAPI solves a dependency's parameters in order, so the token
# is checked before the session takes a slot of the gate.
async def get_current_user(
    claims: Annotated[AccessClaims, Depends(get_access_claims)], session: SessionDep
) -> User:
    return await AuthService(session).user_from_claims(claims)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_user_outside_transaction(
    transactions: TransactionsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    """The current user, checked in a short transaction of its own that ends at once.

    For endpoints that verify or hash a password: they must not hold a connection or a
    slot of the checkout gate while argon2 runs, so they do not take `SessionDep`.
    """
    if not token:
        raise UnauthorizedError("Not authenticated.")
    async with transactions() as session:
        return await AuthService(session).user_from_access_token(token)


CurrentUserOutsideTransaction = Annotated[User, Depends(get_current_user_outside_transaction)]


async def get_current_superuser(user: CurrentUser) -> User:
    if not user.is_superuser:
        raise ForbiddenError()
    return user


SuperUser = Annotated[User, Depends(get_current_superuser)]
