import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.db.models import User

# What a user's public view shows (`UserRead`); never the password hash or token version.
PUBLIC_COLUMNS = (
    User.id,
    User.email,
    User.full_name,
    User.is_active,
    User.is_superuser,
    User.created_at,
    User.updated_at,
)
PublicRow = Row[uuid.UUID, str, str | None, bool, bool, datetime, datetime]


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_id(self, user_id: uuid.UUID) -> User | None:
        return await self.session.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        result = await self.session.execute(select(User).where(User.email == email.lower()))
        return result.scalar_one_or_none()

    async def get_many(self, *, limit: int, offset: int) -> Sequence[User]:
        result = await self.session.execute(
            select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
        )
        return result.scalars().all()

    async def get_many_public(self, *, limit: int, offset: int) -> Sequence[PublicRow]:
        """One page of users as rows of their public columns, in `get_many`'s order.

        For reading only: no ORM objects (no identity map, no change tracking) and no
        password hashes are loaded, which makes a page several times cheaper to serve.
        """
        result = await self.session.execute(
            select(*PUBLIC_COLUMNS).order_by(User.created_at, User.id).limit(limit).offset(offset)
        )
        return result.all()

    async def count(self) -> int:
        result = await self.session.execute(select(func.count()).select_from(User))
        return result.scalar_one()

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def save(self, user: User) -> User:
        """Write pending changes of `user` to the database (inside the current transaction)."""
        await self.session.flush()
        return user

    async def increment_token_version(self, user_id: uuid.UUID) -> None:
        """Raise the user's token version in one statement, which ends their access tokens.

        The increment happens in SQL, so concurrent calls never lose one. A `User` already
        loaded in this session gets the same increment in memory (the ORM's default
        synchronisation), so it does not go on showing the old version.
        """
        await self.session.execute(
            update(User).where(User.id == user_id).values(token_version=User.token_version + 1)
        )

    async def delete(self, user: User) -> None:
        await self.session.delete(user)
        await self.session.flush()

    async def active_superuser_ids(self, *, lock: bool = False) -> Sequence[uuid.UUID]:
        """The ids of the active superusers; with `lock`, their rows stay locked until the
        transaction ends (PostgreSQL), so two of them cannot delete each other at once."""
        query = select(User.id).where(User.is_superuser, User.is_active)
        if lock:
            query = query.with_for_update()
        return (await self.session.scalars(query)).all()
