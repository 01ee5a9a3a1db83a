import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.exceptions import UnauthorizedError
from src.core.security import hash_refresh_token
from src.db.models import RefreshToken, User
from src.db.repositories import UserRepository
from src.db.session import Transactions
from src.services.auth import AuthService
from tests.conftest import PASSWORD, account_service, stored_token_version


async def test_login_issues_a_stored_hashed_refresh_token(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    tokens = await account_service(transactions).login(user.email, PASSWORD)

    stored = (await session.execute(select(RefreshToken))).scalars().all()
    assert len(stored) == 1
    assert stored[0].user_id == user.id
    assert stored[0].token_hash == hash_refresh_token(tokens.refresh_token)
    assert stored[0].token_hash != tokens.refresh_token
    assert stored[0].expires_at > stored[0].created_at


async def test_login_upgrades_an_outdated_hash(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    stronger = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=16, parallelism=1),))
    user.hashed_password = stronger.hash(PASSWORD)
    await session.flush()

    await account_service(transactions).login(user.email, PASSWORD)

    assert user.hashed_password.startswith("$argon2id$v=19$m=8,t=1,p=1$")


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "not-the-password"), ("nobody@example.com", PASSWORD)],
)
async def test_every_failed_login_verifies_a_hash(
    transactions: Transactions,
    user: User,
    monkeypatch: pytest.MonkeyPatch,
    email: str,
    password: str,
) -> None:
    # An unknown email costs an Argon2 verification too, so timing does not reveal
    # which emails are registered.
    verified: list[str] = []

    def verify(hasher: PasswordHash, password: str, password_hash: str) -> bool:
        verified.append(password_hash)
        return False

    def verify_and_update(
        hasher: PasswordHash, password: str, password_hash: str
    ) -> tuple[bool, None]:
        return verify(hasher, password, password_hash), None

    monkeypatch.setattr(PasswordHash, "verify", verify)
    monkeypatch.setattr(PasswordHash, "verify_and_update", verify_and_update)

    with pytest.raises(UnauthorizedError):
        await account_service(transactions).login(email, password)

    assert len(verified) == 1
    assert verified[0].startswith("$argon2id$")


async def test_login_refuses_a_wrong_password(transactions: Transactions, user: User) -> None:
    with pytest.raises(UnauthorizedError):
        await account_service(transactions).login(user.email, "not-the-password")


async def test_reuse_of_a_refresh_token_revokes_all(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    service = AuthService(session)
    accounts = account_service(transactions)
    first = await accounts.login(user.email, PASSWORD)
    second = await accounts.login(user.email, PASSWORD)
    await service.refresh(first.refresh_token)

    with pytest.raises(UnauthorizedError):
        await service.refresh(first.refresh_token)

    stored = (await session.execute(select(RefreshToken))).scalars().all()
    assert all(token.revoked_at is not None for token in stored)
    assert await stored_token_version(session, user) == 1
    with pytest.raises(UnauthorizedError):
        await service.user_from_access_token(second.access_token)
    with pytest.raises(UnauthorizedError):
        await service.refresh(second.refresh_token)


async def test_refresh_for_a_deleted_user(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    service = AuthService(session)
    accounts = account_service(transactions)
    tokens = await accounts.login(user.email, PASSWORD)
    await session.delete(user)
    await session.flush()

    with pytest.raises(UnauthorizedError):
        await service.refresh(tokens.refresh_token)


async def test_user_from_access_token(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    service = AuthService(session)
    accounts = account_service(transactions)
    tokens = await accounts.login(user.email, PASSWORD)

    assert await service.user_from_access_token(tokens.access_token) is user
    with pytest.raises(UnauthorizedError):
        await service.user_from_access_token(tokens.refresh_token)


async def test_user_from_access_token_refuses_an_older_version(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    service = AuthService(session)
    accounts = account_service(transactions)
    old = await accounts.login(user.email, PASSWORD)
    await UserRepository(session).increment_token_version(user.id)
    new = await accounts.login(user.email, PASSWORD)

    with pytest.raises(UnauthorizedError):
        await service.user_from_access_token(old.access_token)
    assert await service.user_from_access_token(new.access_token) is user


async def test_logout_revokes_the_refresh_token_and_raises_the_version(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    service = AuthService(session)
    accounts = account_service(transactions)
    tokens = await accounts.login(user.email, PASSWORD)

    await service.logout(tokens.refresh_token)

    stored = await session.scalar(select(RefreshToken))
    assert stored is not None
    assert stored.revoked_at is not None
    assert await stored_token_version(session, user) == user.token_version == 1
    with pytest.raises(UnauthorizedError):
        await service.user_from_access_token(tokens.access_token)


async def test_logout_twice_raises_the_version_once(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    service = AuthService(session)
    accounts = account_service(transactions)
    tokens = await accounts.login(user.email, PASSWORD)

    await service.logout(tokens.refresh_token)
    await service.logout(tokens.refresh_token)
    await service.logout("never-issued")

    assert await stored_token_version(session, user) == 1
