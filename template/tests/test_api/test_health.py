from collections.abc import AsyncIterator

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from src.api.deps import get_db
from src.main import app
from tests.database import UNREACHABLE_DATABASE_URL


async def test_liveness(client: AsyncClient) -> None:
    response = await client.get("/api/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness(client: AsyncClient) -> None:
    response = await client.get("/api/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readiness_reports_an_unreachable_database(client: AsyncClient) -> None:
    engine = create_async_engine(UNREACHABLE_DATABASE_URL)

    async def get_broken_db() -> AsyncIterator[AsyncSession]:
        async with AsyncSession(engine) as session:
            yield session

    app.dependency_overrides[get_db] = get_broken_db
    try:
        response = await client.get("/api/health/ready")
    finally:
        await engine.dispose()

    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "service_unavailable"
    assert error["request_id"] == response.headers["X-Request-ID"]
    assert "Traceback" not in response.text
