"""Rate limits on login, registration and refresh, counted where every replica shares
them: in Redis when the service has it, in the database otherwise (`src.db.counters`).

A limit holds however many instances run; nothing is counted in a process's memory.
An attempt is counted before the work it guards, which makes the count atomic under
concurrency; attempts that turn out legitimate are taken back.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.config import Settings
from src.core.exceptions import TooManyRequestsError
from src.db.counters import rate_limit_counters


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `attempts` per subject within `window`."""

    name: str
    attempts: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class Limits:
    login_per_account: Limit
    login_per_client: Limit
    registration_per_client: Limit
    refresh_per_client: Limit
    enabled: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        login_window = timedelta(seconds=settings.login_failure_window_seconds)
        return cls(
            login_per_account=Limit(
                "login:account", settings.login_failures_per_account, login_window
            ),
            login_per_client=Limit(
                "login:client", settings.login_failures_per_client, login_window
            ),
            registration_per_client=Limit(
                "register:client",
                settings.registrations_per_client,
                timedelta(seconds=settings.registration_window_seconds),
            ),
            refresh_per_client=Limit(
                "refresh:client",
                settings.refreshes_per_client,
                timedelta(seconds=settings.refresh_window_seconds),
            ),
            enabled=settings.rate_limits_enabled,
        )


class Throttle:
    def __init__(self, session: AsyncSession, limits: Limits) -> None:
        self.counters = rate_limit_counters(session)
        self.limits = limits

    async def count(self, limit: Limit, subject: str, *, now: datetime) -> None:
        """Count one attempt; raise `TooManyRequestsError` when it is over the limit."""
        if not self.limits.enabled:
            return
        hits, window_ends_at = await self.counters.hit(
            _key(limit, subject), now=now, window_ends_at=now + limit.window
        )
        if hits > limit.attempts:
            retry_after = math.ceil((window_ends_at - now).total_seconds())
            raise TooManyRequestsError(retry_after)

    async def forgive(self, limit: Limit, subject: str) -> None:
        """Take back one counted attempt that succeeded."""
        if self.limits.enabled:
            await self.counters.forgive(_key(limit, subject))

    async def reset(self, limit: Limit, subject: str) -> None:
        """Forget every attempt counted for `subject` (after a successful login)."""
        if self.limits.enabled:
            await self.counters.reset(_key(limit, subject))


def _key(limit: Limit, subject: str) -> str:
    return f"{limit.name}:{subject}"[:160]
