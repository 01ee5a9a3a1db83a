from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from src.db.models import User
from src.db.repositories import UserRepository
from src.db.repositories.user import PUBLIC_COLUMNS
from src.schemas.user import USER_READ_LIST, UserRead
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


async def test_public_rows_have_exactly_the_fields_users_read_and_the_page_order(
    session: AsyncSession, user: User, superuser: User
) -> None:
    repository = UserRepository(session)

    rows = await repository.get_many_public(limit=10, offset=0)
    users = await repository.get_many(limit=10, offset=0)

    assert [column.key for column in PUBLIC_COLUMNS] == list(UserRead.model_fields)
    assert [row.id for row in rows] == [each.id for each in users]
    assert USER_READ_LIST.validate_python(rows, from_attributes=True) == [
        UserRead.model_validate(each) for each in users
    ]
