"""Request dependencies: the database session and the authenticated user."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.exceptions import ForbiddenError, UnauthorizedError
from src.db.models import User
from src.db.session import SessionLocal, checkout_gate
from src.services.auth import AuthService

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_db() -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the endpoint succeeds, rolled back if not."""
    async with checkout_gate, SessionLocal() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


# scope="function": the commit runs before the response is sent, so a client never sees
# a success for data that failed to commit.
SessionDep = Annotated[AsyncSession, Depends(get_db, scope="function")]


async def get_current_user(
    session: SessionDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    if not token:
        raise UnauthorizedError("Not authenticated.")
    return await AuthService(session).user_from_access_token(token)


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_current_superuser(user: CurrentUser) -> User:
    if not user.is_superuser:
        raise ForbiddenError()
    return user


SuperUser = Annotated[User, Depends(get_current_superuser)]
