"""Password hashing (Argon2id), access tokens (JWT, HS256) and opaque refresh tokens."""

import asyncio
import hashlib
import os
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from src.core.config import get_settings

# Pinned: decoding never trusts the algorithm named in the token header.
JWT_ALGORITHM = "HS256"
ACCESS_TOKEN_TYPE = "access"  # noqa: S105 - a claim value, not a secret


@lru_cache
def _password_hash() -> PasswordHash:
    settings = get_settings()
    hasher = Argon2Hasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
    )
    return PasswordHash((hasher,))


@lru_cache
def _dummy_hash() -> str:
    # Verified against when the email is unknown, so both login failures cost the same.
    return _password_hash().hash(secrets.token_urlsafe(16))


def _verify_against_dummy(password: str) -> None:
    # In the worker thread: the first call also computes the dummy hash.
    _password_hash().verify(password, _dummy_hash())


def hash_concurrency(cpus: int | None = None) -> int:
    """How many password hashes may run at once: PASSWORD_HASH_CONCURRENCY when set,
    otherwise one fewer than the CPUs (at least one)."""
    configured = get_settings().password_hash_concurrency
    if configured is not None:
        return configured
    return max(1, (cpus if cpus is not None else os.cpu_count() or 1) - 1)


@lru_cache
def _hash_slots() -> asyncio.Semaphore:
    return asyncio.Semaphore(hash_concurrency())


@asynccontextmanager
async def hash_slot() -> AsyncIterator[None]:
    """Wait for, and hold, one of the PASSWORD_HASH_CONCURRENCY slots for hashing.

    Argon2 keeps a core busy for tens of milliseconds by design. It runs in a worker
    thread, so the event loop stays free, and only so many run at once, so a burst of
    logins queues here instead of taking every core from the requests being served.
    Callers hold no database connection while they wait or hash.
    """
    async with _hash_slots():
        yield


async def hash_password(password: str) -> str:
    async with hash_slot():
        return await asyncio.to_thread(_password_hash().hash, password)


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password; also return a new hash when the stored one uses outdated parameters.

    With `password_hash=None` (unknown user) a dummy hash is checked and the result is
    always `(False, None)`.
    """
    async with hash_slot():
        if password_hash is None:
            await asyncio.to_thread(_verify_against_dummy, password)
            return False, None
        return await asyncio.to_thread(_password_hash().verify_and_update, password, password_hash)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """What a valid access token says: whose it is, and the user's token version at issue."""

    user_id: uuid.UUID
    token_version: int


def create_access_token(
    subject: uuid.UUID, token_version: int, *, now: datetime | None = None
) -> tuple[str, int]:
    """Return a signed access token for `subject` and its lifetime in seconds.

    `token_version` is the user's current `User.token_version`; the token stops working
    once that changes.
    """
    settings = get_settings()
    issued_at = now or datetime.now(UTC)
    lifetime = timedelta(minutes=settings.access_token_expire_minutes)
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(subject),
        "type": ACCESS_TOKEN_TYPE,
        "ver": token_version,
        "iat": issued_at,
        "exp": issued_at + lifetime,
    }
    token = jwt.encode(claims, settings.secret_key.get_secret_value(), algorithm=JWT_ALGORITHM)
    return token, int(lifetime.total_seconds())


def decode_access_token(token: str) -> AccessClaims | None:
    """Return the claims of a validly signed, unexpired access token, or None for any other.

    Only the signature and the claims are checked here (the issuer and the audience must be
    the configured ones); whether `token_version` is still the user's is for the caller to
    compare.
    """
    settings = get_settings()
    try:
        claims = jwt.decode(
            token,
            settings.secret_key.get_secret_value(),
            algorithms=[JWT_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["iss", "aud", "sub", "exp", "iat", "type", "ver"]},
        )
    except jwt.InvalidTokenError:
        return None
    version = claims["ver"]
    # JSON true is a Python int too; only a real integer is a version.
    if claims["type"] != ACCESS_TOKEN_TYPE or type(version) is not int:
        return None
    try:
        return AccessClaims(user_id=uuid.UUID(str(claims["sub"])), token_version=version)
    except ValueError:
        return None


def new_refresh_token() -> str:
    """A random, opaque refresh token; only its hash is stored."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    # The token carries 256 random bits, so a fast unsalted hash is enough to make a
    # leaked table useless without slowing every refresh down.
    return hashlib.sha256(token.encode()).hexdigest()
