import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from src.core.config import Settings, get_settings
from src.core.security import (
    AccessClaims,
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
    token, expires_in = create_access_token(user_id, 3)

    assert decode_access_token(token) == AccessClaims(user_id=user_id, token_version=3)
    assert expires_in == 15 * 60


def test_expired_access_token() -> None:
    token, _ = create_access_token(uuid.uuid4(), 0, now=datetime.now(UTC) - timedelta(hours=1))

    assert decode_access_token(token) is None


def _signed(**claims: object) -> str:
    return jwt.encode(claims, get_settings().secret_key.get_secret_value(), algorithm="HS256")


def _claims(user_id: uuid.UUID) -> dict[str, object]:
    """The claims of a valid access token, but its version."""
    settings, now = get_settings(), datetime.now(UTC)
    return {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": str(user_id),
        "type": "access",
        "iat": now,
        "exp": now + timedelta(minutes=5),
    }


@pytest.mark.parametrize("version", ["0", 1.0, True, None], ids=["str", "float", "bool", "null"])
def test_an_access_token_needs_an_integer_version(version: object) -> None:
    user_id = uuid.uuid4()
    claims = _claims(user_id)

    assert decode_access_token(_signed(**claims, ver=0)) == AccessClaims(user_id, 0)
    assert decode_access_token(_signed(**claims)) is None
    assert decode_access_token(_signed(**claims, ver=version)) is None


def test_refresh_tokens_are_random_and_hashed() -> None:
    token = new_refresh_token()

    assert token != new_refresh_token()
    assert len(hash_refresh_token(token)) == 64
    assert hash_refresh_token(token) == hash_refresh_token(token)


def test_access_tokens_name_the_configured_issuer_and_audience() -> None:
    settings = get_settings()
    token, _ = create_access_token(uuid.uuid4(), 0)

    claims = jwt.decode(
        token,
        settings.secret_key.get_secret_value(),
        algorithms=["HS256"],
        audience=settings.jwt_audience,
    )

    assert claims["iss"] == settings.jwt_issuer
    assert claims["aud"] == settings.jwt_audience


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda s: {"iss": None}, id="no-issuer"),
        pytest.param(lambda s: {"iss": "someone-else"}, id="other-issuer"),
        pytest.param(lambda s: {"aud": None}, id="no-audience"),
        pytest.param(lambda s: {"aud": "another-api"}, id="other-audience"),
        pytest.param(lambda s: {"aud": ["another-api"]}, id="other-audiences"),
        pytest.param(lambda s: {"iss": s.jwt_audience, "aud": s.jwt_issuer}, id="swapped"),
    ],
)
def test_an_access_token_needs_the_configured_issuer_and_audience(
    change: Callable[[Settings], dict[str, object]],
) -> None:
    user_id = uuid.uuid4()
    claims = {**_claims(user_id), "ver": 0}
    changed = {**claims, **change(get_settings())}
    changed = {name: value for name, value in changed.items() if value is not None}

    assert decode_access_token(_signed(**claims)) == AccessClaims(user_id, 0)
    assert decode_access_token(_signed(**changed)) is None


@pytest.mark.parametrize("change", [{"jwt_issuer": "staging"}, {"jwt_audience": "staging-api"}])
def test_tokens_issued_under_other_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, change: dict[str, str]
) -> None:
    other = get_settings().model_copy(update=change)
    monkeypatch.setattr("src.core.security.get_settings", lambda: other)
    token, _ = create_access_token(uuid.uuid4(), 0)
    monkeypatch.undo()

    assert decode_access_token(token) is None
