"""The real session dependency (the other API tests replace it with a rolled-back one)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.api.deps import get_db, get_transactions
from src.db.models import User
from src.db.session import SessionLocal
from src.main import app


@pytest.fixture
def real_db(client: AsyncClient) -> AsyncClient:
    app.dependency_overrides.pop(get_transactions)
    return client


async def test_session_serves_a_request(real_db: AsyncClient) -> None:
    response = await real_db.get("/api/health/ready")

    assert response.status_code == 200


@pytest.mark.usefixtures("engine")
async def test_session_rolls_back_when_the_request_fails() -> None:
    async def failing_request() -> None:
        async with asynccontextmanager(get_db)(get_transactions()) as session:
            session.add(User(email="ghost@example.com", hashed_password="x"))
            await session.flush()
            raise RuntimeError("endpoint failed")

    with pytest.raises(RuntimeError, match="endpoint failed"):
        await failing_request()

    async with SessionLocal() as check:
        count = await check.scalar(
            select(func.count()).select_from(User).where(User.email == "ghost@example.com")
        )
    assert count == 0


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token"])
async def test_a_missing_or_bad_token_is_refused_before_a_transaction_opens(
    client: AsyncClient, authorization: str | None
) -> None:
    opened: list[str] = []

    @asynccontextmanager
    async def recording_transaction() -> AsyncIterator[AsyncSession]:
        opened.append("transaction")
        raise AssertionError("no unit of work for a request without a valid token")
        yield  # pragma: no cover

    app.dependency_overrides[get_transactions] = lambda: recording_transaction
    headers = {"Authorization": authorization} if authorization else {}

    response = await client.get("/api/users/me", headers=headers)

    assert response.status_code == 401
    assert opened == []
