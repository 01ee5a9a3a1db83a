"""Test setup: one migrated test database per run, one rolled-back transaction per test."""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tests.database import prepare_test_database, resolve_test_database_url

# Settings for the whole run, set before any `src` module reads them. The .env file and
# the development database are left alone; argon2 runs with its cheapest parameters,
# which the settings refuse unless ARGON2_ALLOW_WEAK_PARAMETERS says this is a test run.
TEST_DATABASE_URL = resolve_test_database_url()
os.environ.update(
    {
        "DATABASE_URL": TEST_DATABASE_URL,
        "SECRET_KEY": "test-only-3a7d9f0c2b4e6a8d1f3c5e7b9d0a2c4e6f8b",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8",
        "ARGON2_PARALLELISM": "1",
        "ARGON2_ALLOW_WEAK_PARAMETERS": "true",
        "CORS_ORIGINS": "",
        "LOG_LEVEL": "WARNING",
    }
)

import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from src.api.deps import get_transactions
from src.core.config import get_settings
from src.core.security import create_access_token
from src.db.engine import build_engine
from src.db.models import User
from src.db.session import Transactions
from src.main import app
from src.schemas.user import UserCreate
from src.services.account import AccountService
from src.services.user import UserService

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
async def engine() -> AsyncIterator[AsyncEngine]:
    """The test database, migrated to the latest revision once per run."""
    await prepare_test_database(TEST_DATABASE_URL)
    config = Config("alembic.ini")
    config.attributes["configure_logging"] = False
    await asyncio.to_thread(command.upgrade, config, "head")
    engine = build_engine(get_settings())
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back after the test.

    Commits made by the code under test only release a savepoint, so nothing persists.
    """
    async with engine.connect() as connection:
        # On SQLite, the write lock is taken at the test's first write, not at BEGIN, so
        # that requests on connections of their own can still read (PostgreSQL ignores it).
        await connection.execution_options(sqlite_begin="DEFERRED")
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture
def transactions(session: AsyncSession) -> Transactions:
    """Units of work inside the test's transaction: each commit releases a savepoint."""

    @asynccontextmanager
    async def test_transaction() -> AsyncIterator[AsyncSession]:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise

    return test_transaction


def serve(app: FastAPI, transactions: Transactions) -> AsyncClient:
    """A client for `app`, whose requests run inside the test's transaction."""
    app.dependency_overrides[get_transactions] = lambda: transactions
    return AsyncClient(transport=ASGITransport(app=app), base_url="http://test")


@pytest.fixture
async def client(transactions: Transactions) -> AsyncIterator[AsyncClient]:
    async with serve(app, transactions) as client:
        yield client
    app.dependency_overrides.clear()


def account_service(transactions: Transactions, client: str = "192.0.2.1") -> AccountService:
    return AccountService(transactions, get_settings(), client=client)


async def _create_user(session: AsyncSession, email: str, *, is_superuser: bool = False) -> User:
    data = UserCreate(email=email, password=PASSWORD, full_name="Test User")
    user = await UserService(session).register(data, is_superuser=is_superuser)
    # Committed like real data (a savepoint released), so a request that fails and rolls
    # back its own work leaves the user in place.
    await session.commit()
    return user


@pytest.fixture
async def user(session: AsyncSession) -> User:
    return await _create_user(session, "alice@example.com")


@pytest.fixture
async def superuser(session: AsyncSession) -> User:
    return await _create_user(session, "root@example.com", is_superuser=True)


async def stored_token_version(session: AsyncSession, user: User) -> int:
    """The user's token version in the database, not the one the session remembers."""
    version = await session.scalar(select(User.token_version).where(User.id == user.id))
    assert version is not None
    return version


def _bearer(user: User) -> dict[str, str]:
    token, _ = create_access_token(user.id, user.token_version)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def user_headers(user: User) -> dict[str, str]:
    return _bearer(user)


@pytest.fixture
def superuser_headers(superuser: User) -> dict[str, str]:
    return _bearer(superuser)
