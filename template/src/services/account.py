"""Everything that checks or sets a password: login, registration, and changes a user can
only make with their current password (new password, new email, deleting the account).

Each operation runs as short transactions around the password work: argon2 runs with
no database connection and no slot of the checkout gate held, so a burst of logins
cannot starve the other requests of connections. Attempts are rate limited in the
database (`src.services.throttle`) and every outcome is written to the audit log.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.audit import audit, email_digest
from src.core.config import Settings
from src.core.exceptions import (
    ConflictError,
    ForbiddenError,
    TooManyRequestsError,
    UnauthorizedError,
)
from src.core.security import hash_password, verify_password
from src.db.models import User
from src.db.repositories import UserRepository
from src.db.session import Transactions
from src.schemas.auth import TokenPair
from src.schemas.user import UserCreate, normalize_email
from src.services.auth import BAD_CREDENTIALS, AuthService
from src.services.throttle import Limits, Throttle
from src.services.user import EMAIL_TAKEN, UserService

WRONG_CURRENT_PASSWORD = "The current password is incorrect."  # noqa: S105 - a message


class AccountService:
    def __init__(self, transactions: Transactions, settings: Settings, *, client: str) -> None:
        self.transactions = transactions
        self.limits = Limits.from_settings(settings)
        self.client = client

    async def login(self, username: str, password: str) -> TokenPair:
        email = normalize_email(username)
        account = email_digest(email or username)
        now = datetime.now(UTC)
        try:
            async with self.transactions() as session:
                await self._count_password_attempt(session, account, now=now)
                user = await UserRepository(session).get_by_email(email) if email else None
        except TooManyRequestsError:
            audit("login_throttled", client=self.client, email=email or username)
            raise
        # Unknown emails are checked against a dummy hash: same answer, similar timing.
        valid, new_hash = await verify_password(password, user.hashed_password if user else None)
        if user is None or not valid or not user.is_active:
            audit("login_failed", client=self.client, email=email or username)
            raise UnauthorizedError(BAD_CREDENTIALS)
        async with self.transactions() as session:
            await self._forgive_password_attempt(session, account)
            users = UserRepository(session)
            current = await users.get_by_id(user.id)
            if current is None or not current.is_active:  # deleted or deactivated meanwhile
                raise UnauthorizedError(BAD_CREDENTIALS)
            if new_hash is not None:  # the hashing parameters changed since this hash was made
                current.hashed_password = new_hash
                await users.save(current)
            tokens = await AuthService(session).issue_tokens(current)
        audit("login_succeeded", client=self.client, user_id=user.id)
        return tokens

    async def refresh(self, refresh_token: str) -> TokenPair:
        now = datetime.now(UTC)
        # Counted in a transaction of its own, so that failed refreshes count too.
        async with self.transactions() as session:
            await Throttle(session, self.limits).count(
                self.limits.refresh_per_client, self.client, now=now
            )
        async with self.transactions() as session:
            return await AuthService(session).refresh(refresh_token, client=self.client)

    async def register(self, data: UserCreate) -> User:
        now = datetime.now(UTC)
        async with self.transactions() as session:
            await Throttle(session, self.limits).count(
                self.limits.registration_per_client, self.client, now=now
            )
            # Refused before hashing; a concurrent registration still ends in the unique
            # index, which answers 409 too.
            if await UserRepository(session).get_by_email(data.email) is not None:
                raise ConflictError(EMAIL_TAKEN)
        hashed_password = await hash_password(data.password)
        async with self.transactions() as session:
            user = await UserService(session).create(data, hashed_password=hashed_password)
        audit("user_registered", client=self.client, user_id=user.id)
        return user

    async def change_password(self, user: User, current_password: str, new_password: str) -> None:
        """Set a new password and end every session of the user, this one included."""
        await self._confirm_password(user, current_password)
        hashed_password = await hash_password(new_password)
        async with self.transactions() as session:
            await self._forgive_password_attempt(session, email_digest(user.email))
            current = await self._reload(session, user.id)
            await UserService(session).change_password(current, hashed_password)
        audit("password_changed", client=self.client, user_id=user.id)

    async def change_email(self, user: User, current_password: str, email: str) -> User:
        await self._confirm_password(user, current_password)
        async with self.transactions() as session:
            await self._forgive_password_attempt(session, email_digest(user.email))
            current = await self._reload(session, user.id)
            updated = await UserService(session).change_email(current, email)
        audit("email_changed", client=self.client, user_id=user.id)
        return updated

    async def delete(self, user: User, current_password: str) -> None:
        await self._confirm_password(user, current_password)
        async with self.transactions() as session:
            await self._forgive_password_attempt(session, email_digest(user.email))
            current = await self._reload(session, user.id)
            await UserService(session).delete(current)
        audit("user_deleted", client=self.client, user_id=user.id)

    async def _confirm_password(self, user: User, password: str) -> None:
        """Re-authentication: a wrong current password counts as a failed login."""
        try:
            async with self.transactions() as session:
                await self._count_password_attempt(
                    session, email_digest(user.email), now=datetime.now(UTC)
                )
        except TooManyRequestsError:
            audit("reauthentication_throttled", client=self.client, user_id=user.id)
            raise
        valid, _ = await verify_password(password, user.hashed_password)
        if not valid:
            audit("reauthentication_failed", client=self.client, user_id=user.id)
            raise ForbiddenError(WRONG_CURRENT_PASSWORD)

    async def _count_password_attempt(
        self, session: AsyncSession, account: str, *, now: datetime
    ) -> None:
        throttle = Throttle(session, self.limits)
        await throttle.count(self.limits.login_per_client, self.client, now=now)
        await throttle.count(self.limits.login_per_account, account, now=now)

    async def _forgive_password_attempt(self, session: AsyncSession, account: str) -> None:
        throttle = Throttle(session, self.limits)
        await throttle.forgive(self.limits.login_per_client, self.client)
        await throttle.reset(self.limits.login_per_account, account)

    @staticmethod
    async def _reload(session: AsyncSession, user_id: uuid.UUID) -> User:
        """The user as stored now; it may have gone while the password was checked."""
        user = await UserRepository(session).get_by_id(user_id)
        if user is None or not user.is_active:
            raise UnauthorizedError()
        return user
