from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from src.db.models import User
from src.db.repositories import UserRepository
from tests.conftest import stored_token_version


async def test_a_new_user_starts_at_token_version_0(session: AsyncSession, user: User) -> None:
    assert user.token_version == 0
    assert await stored_token_version(session, user) == 0


async def test_increment_token_version_adds_one_in_sql(session: AsyncSession, user: User) -> None:
    # Another transaction raised the version after `user` was loaded: the session's copy
    # says 0, the database 5. An increment computed in Python would write 1.
    await session.execute(
        update(User)
        .where(User.id == user.id)
        .values(token_version=5)
        .execution_options(synchronize_session=False)
    )
    assert user.token_version == 0

    await UserRepository(session).increment_token_version(user.id)

    assert await stored_token_version(session, user) == 6


async def test_increment_token_version_updates_the_loaded_user(
    session: AsyncSession, user: User
) -> None:
    repository = UserRepository(session)

    await repository.increment_token_version(user.id)
    await repository.increment_token_version(user.id)

    assert user.token_version == 2
    assert await repository.get_by_id(user.id) is user
    assert await stored_token_version(session, user) == 2
