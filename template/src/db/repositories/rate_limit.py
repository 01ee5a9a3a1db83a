from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from src.db.models import RateLimitCounter


class RateLimitCounters(Protocol):
    """Attempt counters with a window each; the database or Redis keeps them."""

    async def hit(
        self, key: str, *, now: datetime, window_ends_at: datetime
    ) -> tuple[int, datetime]: ...

    async def forgive(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...


class RateLimitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def hit(
        self, key: str, *, now: datetime, window_ends_at: datetime
    ) -> tuple[int, datetime]:
        """Count one attempt for `key`; return the attempts in its window and the window's end.

        One statement (an upsert), so concurrent attempts from any replica are all counted.
        A window that has ended starts again at this attempt.
        """
        counter = RateLimitCounter
        insert = (
            postgresql.insert
            if self.session.get_bind().dialect.name == "postgresql"
            else sqlite.insert
        )
        attempt = insert(counter).values(key=key, hits=1, window_ends_at=window_ends_at)
        ended = counter.window_ends_at <= now
        statement = attempt.on_conflict_do_update(
            index_elements=[counter.key],
            set_={
                "hits": case((ended, 1), else_=counter.hits + 1),
                "window_ends_at": case(
                    (ended, attempt.excluded.window_ends_at), else_=counter.window_ends_at
                ),
            },
        ).returning(counter.hits, counter.window_ends_at)
        hits, ends_at = (await self.session.execute(statement)).one()
        return hits, ends_at

    async def forgive(self, key: str) -> None:
        """Take one attempt back (it turned out to be a legitimate one)."""
        await self.session.execute(
            update(RateLimitCounter)
            .where(RateLimitCounter.key == key, RateLimitCounter.hits > 0)
            .values(hits=RateLimitCounter.hits - 1)
        )

    async def reset(self, key: str) -> None:
        await self.session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    async def purge(self, *, now: datetime) -> int:
        """Delete the counters whose window has ended; return how many."""
        result = await self.session.execute(
            delete(RateLimitCounter).where(RateLimitCounter.window_ends_at <= now)
        )
        return cast("CursorResult[Any]", result).rowcount
