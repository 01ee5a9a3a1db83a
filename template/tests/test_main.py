import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import src.main
from src.core.config import Settings, get_settings
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


async def test_documented_errors_use_the_error_shape(client: AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()
    error_schema = {"$ref": "#/components/schemas/ErrorResponse"}

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            name = f"{method.upper()} {path}"
            responses = operation["responses"]
            errors = {code: body for code, body in responses.items() if int(code) >= 400}
            for body in errors.values():
                assert body["content"]["application/json"]["schema"] == error_schema, name
            if operation.get("security"):
                assert "401" in errors, name
            if "requestBody" in operation:
                assert "422" in errors, name


async def test_documented_body_limit(client: AsyncClient) -> None:
    schema = (await client.get("/api/openapi.json")).json()

    too_large = schema["paths"]["/api/auth/refresh"]["post"]["responses"]["413"]
    error_schema = {"$ref": "#/components/schemas/ErrorResponse"}
    assert too_large["content"]["application/json"]["schema"] == error_schema


@pytest.mark.parametrize("path", ["/api/docs", "/api/openapi.json", "/docs/oauth2-redirect"])
async def test_docs_can_be_switched_off(path: str) -> None:
    transport = ASGITransport(app=src.main.create_app(Settings(docs_enabled=False)))
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_docs_are_on_by_default(client: AsyncClient) -> None:
    assert Settings.model_fields["docs_enabled"].default is True
    response = await client.get("/api/docs")

    assert response.status_code == 200
    assert "swagger-ui" in response.text
