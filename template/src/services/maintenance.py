"""Housekeeping: what has expired is deleted, by `python -m src.cli purge-tokens` or by
the worker's periodic task when the service has one."""

from datetime import UTC, datetime

from src.db.repositories import RateLimitRepository, RefreshTokenRepository
from src.db.session import Transactions, transaction


async def purge_tokens(
    now: datetime | None = None, *, transactions: Transactions = transaction
) -> tuple[int, int]:
    """Delete expired refresh tokens and ended rate-limit windows; return both counts."""
    now = now or datetime.now(UTC)
    async with transactions() as session:
        tokens = await RefreshTokenRepository(session).purge_expired(now=now)
        counters = await RateLimitRepository(session).purge(now=now)
    return tokens, counters
