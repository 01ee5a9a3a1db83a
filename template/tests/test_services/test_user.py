import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.core.exceptions import ConflictError, NotFoundError
from src.core.security import hash_password, verify_password
from src.db.models import User
from src.schemas.user import UserCreate, UserUpdate
from src.services.user import UserService, create_first_superuser
from tests.conftest import stored_token_version


async def test_register_stores_a_hash(session: AsyncSession) -> None:
    user = await UserService(session).register(
        UserCreate(email="bob@example.com", password="bobs-password")
    )

    assert user.hashed_password.startswith("$argon2id$")
    assert (await verify_password("bobs-password", user.hashed_password))[0]
    assert user.created_at.tzinfo is not None


async def test_register_refuses_a_taken_email(session: AsyncSession, user: User) -> None:
    with pytest.raises(ConflictError):
        await UserService(session).register(
            UserCreate(email=user.email, password="another-password")
        )


async def test_get_unknown_user(session: AsyncSession) -> None:
    with pytest.raises(NotFoundError):
        await UserService(session).get(uuid.uuid4())


async def test_page_counts_all_users(session: AsyncSession, user: User, superuser: User) -> None:
    users, total = await UserService(session).page(limit=1, offset=0)

    assert total == 2
    assert len(users) == 1


async def test_change_email_keeps_the_same_email(session: AsyncSession, user: User) -> None:
    updated = await UserService(session).change_email(user, user.email)

    assert updated.email == user.email


async def test_change_password_stores_the_new_hash(session: AsyncSession, user: User) -> None:
    new_hash = await hash_password("new-password-123")

    await UserService(session).change_password(user, new_hash)

    assert user.hashed_password == new_hash
    assert (await verify_password("new-password-123", user.hashed_password))[0]


async def test_only_a_new_password_raises_the_token_version(
    session: AsyncSession, user: User
) -> None:
    service = UserService(session)

    await service.update(user, UserUpdate(full_name="Alice"))
    await service.change_email(user, "alice@new.example")
    assert await stored_token_version(session, user) == 0

    await service.change_password(user, await hash_password("new-password-123"))
    assert await stored_token_version(session, user) == user.token_version == 1


async def test_change_email_refuses_a_taken_email(
    session: AsyncSession, user: User, superuser: User
) -> None:
    with pytest.raises(ConflictError):
        await UserService(session).change_email(user, superuser.email)


async def test_delete(session: AsyncSession, user: User) -> None:
    service = UserService(session)

    await service.delete(user)

    with pytest.raises(NotFoundError):
        await service.get(user.id)


async def test_ensure_superuser_creates_once(session: AsyncSession) -> None:
    service = UserService(session)

    assert await service.ensure_superuser("admin@example.com", "admin-password") is True
    assert await service.ensure_superuser("admin@example.com", "admin-password") is False
    users, _ = await service.page(limit=10, offset=0)
    assert [user.is_superuser for user in users] == [True]


async def test_create_first_superuser(session: AsyncSession) -> None:
    factory = async_sessionmaker(
        bind=await session.connection(), join_transaction_mode="create_savepoint"
    )

    assert await create_first_superuser(factory, "admin@example.com", "admin-password")
    assert not await create_first_superuser(factory, "admin@example.com", "admin-password")
