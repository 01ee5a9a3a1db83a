import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.audit import audit
from src.core.config import get_settings
from src.core.exceptions import UnauthorizedError
from src.core.security import (
    AccessClaims,
    create_access_token,
    decode_access_token,
    hash_refresh_token,
    new_refresh_token,
)
from src.db.models import RefreshToken, User
from src.db.repositories import RefreshTokenRepository, UserRepository
from src.schemas.auth import TokenPair

BAD_CREDENTIALS = "Incorrect email or password."
BAD_REFRESH_TOKEN = "Invalid or expired refresh token."  # noqa: S105 - a message


class AuthService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.refresh_tokens = RefreshTokenRepository(session)

    async def refresh(self, refresh_token: str, *, client: str = "unknown") -> TokenPair:
        """Swap a refresh token for a new pair. Each refresh token works once."""
        now = datetime.now(UTC)
        token_hash = hash_refresh_token(refresh_token)
        user_id = await self.refresh_tokens.consume(token_hash, now=now)
        if user_id is None:
            stored = await self.refresh_tokens.get_by_hash(token_hash)
            if stored is not None and stored.revoked_at is not None:
                # A spent token came back: it was copied. End every session of this user,
                # refresh and access tokens alike, and keep that even though the request fails.
                await self.refresh_tokens.revoke_all_for_user(stored.user_id, now=now)
                await self.users.increment_token_version(stored.user_id)
                await self.session.commit()
                audit(
                    "refresh_token_reused",
                    client=client,
                    user_id=stored.user_id,
                    level=logging.WARNING,
                )
            raise UnauthorizedError(BAD_REFRESH_TOKEN)
        user = await self.users.get_by_id(user_id)
        if user is None or not user.is_active:
            raise UnauthorizedError(BAD_REFRESH_TOKEN)
        return await self.issue_tokens(user)

    async def logout(self, refresh_token: str, *, client: str = "unknown") -> None:
        """Revoke the refresh token and end every access token of its user.

        Access tokens cannot be told apart by device, so the user's other devices get a 401
        on their next request and swap their own refresh token for a new pair.
        """
        user_id = await self.refresh_tokens.revoke(
            hash_refresh_token(refresh_token), now=datetime.now(UTC)
        )
        if user_id is not None:
            await self.users.increment_token_version(user_id)
            audit("logout", client=client, user_id=user_id)

    async def user_from_access_token(self, token: str) -> User:
        claims = decode_access_token(token)
        if claims is None:
            raise UnauthorizedError()
        return await self.user_from_claims(claims)

    async def user_from_claims(self, claims: AccessClaims) -> User:
        """The user a decoded access token names, if active and the version is current."""
        user = await self.users.get_by_id(claims.user_id)
        # A token issued before the last logout, password change or reuse alarm carries an
        # older version than the user's, and is refused though it has not expired.
        if user is None or not user.is_active or user.token_version != claims.token_version:
            raise UnauthorizedError()
        return user

    async def issue_tokens(self, user: User) -> TokenPair:
        """A new session: an access token and a refresh token for `user`.

        Beyond MAX_SESSIONS_PER_USER active sessions, the oldest ones end.
        """
        settings = get_settings()
        now = datetime.now(UTC)
        access_token, expires_in = create_access_token(user.id, user.token_version)
        refresh_token = new_refresh_token()
        lifetime = timedelta(days=settings.refresh_token_expire_days)
        await self.refresh_tokens.add(
            RefreshToken(
                user_id=user.id,
                token_hash=hash_refresh_token(refresh_token),
                expires_at=now + lifetime,
            )
        )
        await self.refresh_tokens.revoke_all_but_newest(
            user.id, keep=settings.max_sessions_per_user, now=now
        )
        return TokenPair(
            access_token=access_token, refresh_token=refresh_token, expires_in=expires_in
        )
