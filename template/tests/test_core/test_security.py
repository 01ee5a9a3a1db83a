import uuid
from datetime import UTC, datetime, timedelta

from src.core.security import (
    create_access_token,
    decode_access_token,
    hash_password,
    hash_refresh_token,
    new_refresh_token,
    verify_password,
)


async def test_password_round_trip() -> None:
    password_hash = await hash_password("a-password")

    assert await verify_password("a-password", password_hash) == (True, None)
    assert (await verify_password("another-password", password_hash))[0] is False


async def test_unknown_user_never_verifies() -> None:
    assert await verify_password("anything", None) == (False, None)


def test_access_token_round_trip() -> None:
    user_id = uuid.uuid4()
    token, expires_in = create_access_token(user_id)

    assert decode_access_token(token) == user_id
    assert expires_in == 15 * 60


def test_expired_access_token() -> None:
    token, _ = create_access_token(uuid.uuid4(), now=datetime.now(UTC) - timedelta(hours=1))

    assert decode_access_token(token) is None


def test_refresh_tokens_are_random_and_hashed() -> None:
    token = new_refresh_token()

    assert token != new_refresh_token()
    assert len(hash_refresh_token(token)) == 64
    assert hash_refresh_token(token) == hash_refresh_token(token)
