import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from src.core.exceptions import ConflictError, NotFoundError
from src.core.security import hash_password
from src.db.models import User
from src.db.repositories import RefreshTokenRepository, UserRepository
from src.db.repositories.user import PublicRow
from src.schemas.user import UserCreate, UserUpdate

EMAIL_TAKEN = "A user with this email already exists."
LAST_SUPERUSER = (
    "This is the only active superuser; make another user a superuser before deleting it."
)


class UserService:
    def __init__(self, session: AsyncSession) -> None:
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)

    async def register(self, data: UserCreate, *, is_superuser: bool = False) -> User:
        """Hash the password and create the user, all in this session.

        Request handlers go through `AccountService.register`, which hashes outside of any
        transaction; this is for the command line and for tests.
        """
        if await self.users.get_by_email(data.email) is not None:
            raise ConflictError(EMAIL_TAKEN)
        hashed_password = await hash_password(data.password)
        return await self.create(data, hashed_password=hashed_password, is_superuser=is_superuser)

    async def create(
        self, data: UserCreate, *, hashed_password: str, is_superuser: bool = False
    ) -> User:
        if await self.users.get_by_email(data.email) is not None:
            raise ConflictError(EMAIL_TAKEN)
        user = User(
            email=data.email,
            full_name=data.full_name,
            hashed_password=hashed_password,
            is_superuser=is_superuser,
        )
        return await self.users.add(user)

    async def get(self, user_id: uuid.UUID) -> User:
        user = await self.users.get_by_id(user_id)
        if user is None:
            raise NotFoundError("User not found.")
        return user

    async def page(self, *, limit: int, offset: int) -> tuple[Sequence[User], int]:
        return await self.users.get_many(limit=limit, offset=offset), await self.users.count()

    async def public_page(self, *, limit: int, offset: int) -> tuple[Sequence[PublicRow], int]:
        """`page` for reading: rows of the public columns instead of `User` objects."""
        rows = await self.users.get_many_public(limit=limit, offset=offset)
        return rows, await self.users.count()

    async def update(self, user: User, data: UserUpdate) -> User:
        """Change the profile. Email and password changes need the current password and go
        through `AccountService`."""
        if "full_name" in data.model_fields_set:
            user.full_name = data.full_name
        return await self.users.save(user)

    async def change_email(self, user: User, email: str) -> User:
        if email != user.email:
            if await self.users.get_by_email(email) is not None:
                raise ConflictError(EMAIL_TAKEN)
            user.email = email
        return await self.users.save(user)

    async def change_password(self, user: User, hashed_password: str) -> User:
        """Store a new password hash and end every session opened with the old password,
        refresh and access tokens alike."""
        user.hashed_password = hashed_password
        await self.users.save(user)
        await self.refresh_tokens.revoke_all_for_user(user.id, now=datetime.now(UTC))
        await self.users.increment_token_version(user.id)
        return user

    async def delete(self, user: User) -> None:
        """Delete the user; the last active superuser cannot go, or nobody could manage users."""
        if user.is_superuser and user.is_active:
            others = await self.users.active_superuser_ids(lock=True)
            if set(others) <= {user.id}:
                raise ConflictError(LAST_SUPERUSER)
        await self.users.delete(user)

    async def ensure_superuser(self, email: str, password: str) -> bool:
        """Create a superuser unless a user with this email exists; True if created."""
        if await self.users.get_by_email(email) is not None:
            return False
        await self.register(UserCreate(email=email, password=password), is_superuser=True)
        return True


async def create_first_superuser(
    session_factory: async_sessionmaker[AsyncSession], email: str, password: str
) -> bool:
    """Create the configured superuser if missing, in its own transaction; True if created."""
    async with session_factory() as session:
        try:
            created = await UserService(session).ensure_superuser(email, password)
            await session.commit()
        except IntegrityError:  # another worker created it at the same moment
            await session.rollback()
            return False
    return created
