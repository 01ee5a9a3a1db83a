import pytest
from httpx import AsyncClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import src.main
from src.core.config import get_settings
from src.services.user import UserService


async def test_lifespan_creates_the_first_superuser(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings().model_copy(
        update={
            "first_superuser_email": "root@example.com",
            "first_superuser_password": SecretStr("root-password"),
        }
    )
    factory = async_sessionmaker(
        bind=await session.connection(), join_transaction_mode="create_savepoint"
    )
    monkeypatch.setattr(src.main, "SessionLocal", factory)
    app = src.main.create_app(settings)

    async with app.router.lifespan_context(app):
        pass

    users, total = await UserService(session).page(limit=10, offset=0)
    assert total == 1
    assert users[0].email == "root@example.com"
    assert users[0].is_superuser


async def test_openapi_schema(client: AsyncClient) -> None:
    response = await client.get("/api/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/users", "/api/users/me", "/api/auth/token", "/api/health/ready"} <= set(paths)
