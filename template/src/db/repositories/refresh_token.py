import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from src.db.models import RefreshToken


class RefreshTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, token: RefreshToken) -> RefreshToken:
        self.session.add(token)
        await self.session.flush()
        return token

    async def get_by_hash(self, token_hash: str) -> RefreshToken | None:
        result = await self.session.execute(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )
        return result.scalar_one_or_none()

    async def consume(self, token_hash: str, *, now: datetime) -> uuid.UUID | None:
        """Revoke an unused, unexpired token and return its user id, in one statement.

        Returns None when no such token exists (unknown, expired or already used), so two
        concurrent refreshes with the same token cannot both succeed.
        """
        result = await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(revoked_at=now)
            .returning(RefreshToken.user_id)
        )
        return result.scalar_one_or_none()

    async def revoke(self, token_hash: str, *, now: datetime) -> uuid.UUID | None:
        """Revoke a token that is not revoked yet; return its user id, or None if none was."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.token_hash == token_hash, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
            .returning(RefreshToken.user_id)
        )
        return result.scalar_one_or_none()

    async def revoke_all_for_user(self, user_id: uuid.UUID, *, now: datetime) -> None:
        await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    async def revoke_all_but_newest(self, user_id: uuid.UUID, *, keep: int, now: datetime) -> None:
        """Revoke the user's active tokens except the `keep` most recently issued."""
        newest = (
            select(RefreshToken.id)
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .order_by(RefreshToken.created_at.desc(), RefreshToken.id.desc())
            .limit(keep)
        )
        kept = (await self.session.scalars(newest)).all()
        await self.session.execute(
            update(RefreshToken)
            .where(
                RefreshToken.user_id == user_id,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.id.not_in(kept),
            )
            .values(revoked_at=now)
        )

    async def purge_expired(self, *, now: datetime) -> int:
        """Delete the tokens that have expired, used or not; return how many.

        Revoked tokens that have not expired yet are kept: a copy coming back must still
        be recognised as a reused token until then.
        """
        result = await self.session.execute(
            delete(RefreshToken).where(RefreshToken.expires_at <= now)
        )
        return cast("CursorResult[Any]", result).rowcount
