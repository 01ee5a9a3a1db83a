import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pwdlib import PasswordHash
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core import security
from src.core.config import get_settings
from src.core.exceptions import (
    ConflictError,
    ForbiddenError,
    TooManyRequestsError,
    UnauthorizedError,
)
from src.db.models import RefreshToken, User
from src.db.session import Transactions
from src.schemas.user import UserCreate
from src.services.user import UserService
from tests.conftest import (
    PASSWORD,
    account_service,
    end_rate_limit_windows,
    stored_token_version,
)

WRONG = "not-the-password"


async def fail_logins(transactions: Transactions, email: str, times: int, client: str) -> None:
    for _ in range(times):
        with pytest.raises(UnauthorizedError):
            await account_service(transactions, client).login(email, WRONG)


async def test_an_account_is_locked_after_the_allowed_failures(
    transactions: Transactions, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    allowed = get_settings().login_failures_per_account
    # From different clients, so only the account's limit applies.
    for attempt in range(allowed):
        await fail_logins(transactions, user.email, 1, client=f"198.51.100.{attempt}")
    verified: list[str] = []
    monkeypatch.setattr(PasswordHash, "verify_and_update", lambda *args: verified.append("x"))

    with pytest.raises(TooManyRequestsError) as refused:
        await account_service(transactions, "203.0.113.9").login(user.email, PASSWORD)

    # Refused before any hashing, even with the right password.
    assert verified == []
    window = get_settings().login_failure_window_seconds
    assert 0 < refused.value.retry_after <= window


async def test_the_account_unlocks_when_its_window_ends(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    email = user.email
    await fail_logins(transactions, email, get_settings().login_failures_per_account, "x")
    with pytest.raises(TooManyRequestsError):
        await account_service(transactions, "y").login(email, PASSWORD)

    await end_rate_limit_windows(session)

    assert (await account_service(transactions, "y").login(email, PASSWORD)).access_token


async def test_a_successful_login_clears_the_failures_of_its_account(
    transactions: Transactions, user: User
) -> None:
    allowed = get_settings().login_failures_per_account
    await fail_logins(transactions, user.email, allowed - 1, "192.0.2.1")
    await account_service(transactions).login(user.email, PASSWORD)

    await fail_logins(transactions, user.email, allowed - 1, "192.0.2.1")
    assert (await account_service(transactions).login(user.email, PASSWORD)).access_token


async def test_a_client_is_limited_across_accounts(transactions: Transactions, user: User) -> None:
    email = user.email
    allowed = get_settings().login_failures_per_client
    for attempt in range(allowed):
        with pytest.raises(UnauthorizedError):
            await account_service(transactions, "192.0.2.66").login(
                f"guess{attempt}@example.com", WRONG
            )

    with pytest.raises(TooManyRequestsError):
        await account_service(transactions, "192.0.2.66").login(email, PASSWORD)
    # Another client is not affected.
    assert await account_service(transactions, "192.0.2.67").login(email, PASSWORD)


async def test_registrations_are_limited_per_client(transactions: Transactions) -> None:
    accounts = account_service(transactions, "192.0.2.80")
    for number in range(get_settings().registrations_per_client):
        await accounts.register(UserCreate(email=f"new{number}@example.com", password=PASSWORD))

    with pytest.raises(TooManyRequestsError):
        await accounts.register(UserCreate(email="one-more@example.com", password=PASSWORD))


async def test_refreshes_are_limited_per_client_failed_ones_included(
    transactions: Transactions,
) -> None:
    accounts = account_service(transactions, "192.0.2.90")
    for _ in range(get_settings().refreshes_per_client):
        with pytest.raises(UnauthorizedError):
            await accounts.refresh("not-a-token")

    with pytest.raises(TooManyRequestsError):
        await accounts.refresh("not-a-token")


async def test_no_password_is_hashed_inside_a_transaction(
    session: AsyncSession, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_transactions = 0
    hashed_while_open: list[int] = []

    @asynccontextmanager
    async def counting() -> AsyncIterator[AsyncSession]:
        nonlocal open_transactions
        open_transactions += 1
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise
        finally:
            open_transactions -= 1

    original = security.hash_slot

    @asynccontextmanager
    async def watched() -> AsyncIterator[None]:
        hashed_while_open.append(open_transactions)
        async with original():
            yield

    monkeypatch.setattr(security, "hash_slot", watched)
    accounts = account_service(counting)

    await accounts.register(UserCreate(email="bob@example.com", password=PASSWORD))
    await accounts.login(user.email, PASSWORD)
    with pytest.raises(UnauthorizedError):
        await accounts.login(user.email, WRONG)
    await accounts.change_password(user, PASSWORD, "another long passphrase")
    with pytest.raises(ForbiddenError):
        await accounts.delete(user, WRONG)

    assert len(hashed_while_open) == 6
    assert set(hashed_while_open) == {0}


def test_hash_concurrency_leaves_a_core_for_the_event_loop() -> None:
    assert security.hash_concurrency(cpus=1) == 1
    assert security.hash_concurrency(cpus=2) == 1
    assert security.hash_concurrency(cpus=8) == 7


async def test_hashes_run_at_most_the_configured_number_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = peak = 0
    lock = __import__("threading").Lock()

    def slow_hash(password: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        __import__("time").sleep(0.02)
        with lock:
            running -= 1
        return password

    monkeypatch.setattr(security._password_hash(), "hash", slow_hash)
    await asyncio.gather(*(security.hash_password(f"password {n}") for n in range(6)))

    assert peak == security.hash_concurrency()


async def test_changing_the_password_needs_the_current_one(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    accounts = account_service(transactions)
    with pytest.raises(ForbiddenError):
        await accounts.change_password(user, WRONG, "another long passphrase")
    assert await stored_token_version(session, user) == 0

    await accounts.change_password(user, PASSWORD, "another long passphrase")

    assert await stored_token_version(session, user) == 1
    with pytest.raises(UnauthorizedError):
        await accounts.login(user.email, PASSWORD)
    assert await accounts.login(user.email, "another long passphrase")


async def test_wrong_current_passwords_count_as_failed_logins(
    transactions: Transactions, user: User
) -> None:
    accounts = account_service(transactions)
    for _ in range(get_settings().login_failures_per_account):
        with pytest.raises(ForbiddenError):
            await accounts.change_email(user, WRONG, "mallory@example.com")

    with pytest.raises(TooManyRequestsError):
        await accounts.login(user.email, PASSWORD)


async def test_changing_the_email_needs_the_current_password(
    session: AsyncSession, transactions: Transactions, user: User, superuser: User
) -> None:
    accounts = account_service(transactions)
    with pytest.raises(ForbiddenError):
        await accounts.change_email(user, WRONG, "alice@new.example")
    with pytest.raises(ConflictError):
        await accounts.change_email(user, PASSWORD, superuser.email)
    await session.refresh(user)  # the refused change rolled back, which expired it

    updated = await accounts.change_email(user, PASSWORD, "alice@new.example")

    assert updated.email == "alice@new.example"


async def test_deleting_the_account_needs_the_current_password(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    accounts = account_service(transactions)
    with pytest.raises(ForbiddenError):
        await accounts.delete(user, WRONG)

    await accounts.delete(user, PASSWORD)

    assert await session.scalar(select(User).where(User.id == user.id)) is None


async def test_the_last_active_superuser_cannot_be_deleted(
    session: AsyncSession, superuser: User
) -> None:
    service = UserService(session)
    with pytest.raises(ConflictError, match="only active superuser"):
        await service.delete(superuser)

    other = await service.register(
        UserCreate(email="root2@example.com", password=PASSWORD), is_superuser=True
    )
    await service.delete(superuser)
    with pytest.raises(ConflictError):
        await service.delete(other)


async def test_sessions_beyond_the_cap_end_oldest_first(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    cap = get_settings().max_sessions_per_user
    accounts = account_service(transactions)
    first = await accounts.login(user.email, PASSWORD)
    for _ in range(cap):
        await accounts.login(user.email, PASSWORD)

    active = await session.scalars(
        select(RefreshToken).where(
            RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None)
        )
    )
    assert len(active.all()) == cap
    with pytest.raises(UnauthorizedError):
        await accounts.refresh(first.refresh_token)


async def test_every_outcome_is_audited_without_secrets(
    transactions: Transactions, user: User, caplog: pytest.LogCaptureFixture
) -> None:
    accounts = account_service(transactions, "192.0.2.5")
    with caplog.at_level(logging.INFO, logger="src.audit"):
        with pytest.raises(UnauthorizedError):
            await accounts.login(user.email, WRONG)
        with pytest.raises(UnauthorizedError):
            await accounts.login("nobody@example.com", WRONG)
        tokens = await accounts.login(user.email, PASSWORD)
        await accounts.change_password(user, PASSWORD, "another long passphrase")

    events = [(record.event, record.client) for record in caplog.records]  # type: ignore[attr-defined]
    assert events == [
        ("login_failed", "192.0.2.5"),
        ("login_failed", "192.0.2.5"),
        ("login_succeeded", "192.0.2.5"),
        ("password_changed", "192.0.2.5"),
    ]
    assert caplog.records[0].email_sha256 != caplog.records[1].email_sha256  # type: ignore[attr-defined]
    assert caplog.records[2].user_id == str(user.id)  # type: ignore[attr-defined]
    logged = caplog.text + "".join(str(record.__dict__) for record in caplog.records)
    for secret in (PASSWORD, WRONG, "another long passphrase", tokens.refresh_token, user.email):
        assert secret not in logged
