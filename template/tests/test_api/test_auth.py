import asyncio
import base64
import json
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from httpx import AsyncClient
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.audit import email_digest
from src.core.config import get_settings
from src.core.exceptions import UnauthorizedError
from src.core.security import create_access_token, hash_refresh_token
from src.db.models import RateLimitCounter, RefreshToken, User
from src.db.repositories import UserRepository
from src.db.session import Transactions, transaction
from src.main import create_app
from src.schemas.auth import TokenPair
from src.schemas.user import UserCreate
from src.services import account as account_module
from src.services.account import AccountService
from tests.conftest import PASSWORD, counted_attempts, serve


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def sign(claims: dict[str, object], key: str | None = None, algorithm: str = "HS256") -> str:
    secret = key or get_settings().secret_key.get_secret_value()
    return jwt.encode(claims, secret, algorithm=algorithm)


async def test_login_returns_a_token_pair(client: AsyncClient, user: User) -> None:
    response = await client.post(
        "/api/auth/token",
        data={"username": "ALICE@example.com", "password": PASSWORD, "grant_type": "password"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == get_settings().access_token_expire_minutes * 60
    assert body["refresh_token"]
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200


async def test_access_token_claims(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)

    claims = jwt.decode(
        tokens["access_token"],
        get_settings().secret_key.get_secret_value(),
        algorithms=["HS256"],
        audience=get_settings().jwt_audience,
    )
    assert claims["iss"] == get_settings().jwt_issuer
    assert claims["aud"] == get_settings().jwt_audience
    assert claims["sub"] == str(user.id)
    assert claims["type"] == "access"
    assert claims["ver"] == user.token_version == 0
    assert claims["exp"] - claims["iat"] == get_settings().access_token_expire_minutes * 60


@pytest.mark.parametrize(
    ("username", "password"),
    [("alice@example.com", "wrong-password"), ("nobody@example.com", PASSWORD)],
)
async def test_login_failures_look_the_same(
    client: AsyncClient, user: User, username: str, password: str
) -> None:
    response = await client.post(
        "/api/auth/token", data={"username": username, "password": password}
    )

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["message"] == "Incorrect email or password."


async def test_login_refuses_an_inactive_user(
    client: AsyncClient, session: AsyncSession, user: User
) -> None:
    user.is_active = False
    await session.flush()

    response = await client.post(
        "/api/auth/token", data={"username": user.email, "password": PASSWORD}
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    "form",
    [
        {"username": "alice@example.com"},
        {"password": PASSWORD},
        {"username": "a" * 255, "password": PASSWORD},
        {"username": "alice@example.com", "password": "x" * 129},
        {"username": "alice\x00@example.com", "password": PASSWORD},
        {"username": "alice@example.com", "password": PASSWORD, "grant_type": "client"},
    ],
)
async def test_login_validates_the_form(client: AsyncClient, form: dict[str, str]) -> None:
    response = await client.post("/api/auth/token", data=form)

    assert response.status_code == 422


async def test_refresh_rotates_the_pair(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)

    response = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )

    assert response.status_code == 200
    new_tokens = response.json()
    assert new_tokens["refresh_token"] != tokens["refresh_token"]
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {new_tokens['access_token']}"}
    )
    assert me.status_code == 200


async def test_reusing_a_refresh_token_revokes_every_session(
    client: AsyncClient, user: User
) -> None:
    tokens = await login(client, user.email)
    other_session = await login(client, user.email)
    rotated = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200

    reused = await client.post("/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]})

    assert reused.status_code == 401
    assert reused.headers["WWW-Authenticate"] == "Bearer"
    for token in (rotated.json()["refresh_token"], other_session["refresh_token"]):
        response = await client.post("/api/auth/refresh", json={"refresh_token": token})
        assert response.status_code == 401
    for access_token in (rotated.json()["access_token"], other_session["access_token"]):
        me = await client.get("/api/users/me", headers=bearer(access_token))
        assert me.status_code == 401


async def test_refresh_rejects_an_unknown_token(client: AsyncClient) -> None:
    response = await client.post("/api/auth/refresh", json={"refresh_token": "made-up"})

    assert response.status_code == 401


async def test_refresh_rejects_an_expired_token(
    client: AsyncClient, session: AsyncSession, user: User
) -> None:
    session.add(
        RefreshToken(
            user_id=user.id,
            token_hash=hash_refresh_token("expired-token"),
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
        )
    )
    await session.flush()

    response = await client.post("/api/auth/refresh", json={"refresh_token": "expired-token"})

    assert response.status_code == 401


async def test_refresh_rejects_an_inactive_user(
    client: AsyncClient, session: AsyncSession, user: User
) -> None:
    tokens = await login(client, user.email)
    user.is_active = False
    await session.flush()

    response = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )

    assert response.status_code == 401


@pytest.mark.parametrize("body", [{}, {"refresh_token": ""}, {"refresh_token": "x" * 257}])
async def test_refresh_validates_the_body(client: AsyncClient, body: dict[str, str]) -> None:
    response = await client.post("/api/auth/refresh", json=body)

    assert response.status_code == 422


async def test_logout_revokes_the_refresh_token(client: AsyncClient, user: User) -> None:
    tokens = await login(client, user.email)

    response = await client.post(
        "/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )

    assert response.status_code == 204
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401


async def test_logout_ends_the_access_tokens_of_every_device(
    client: AsyncClient, user: User
) -> None:
    laptop = await login(client, user.email)
    phone = await login(client, user.email)
    for tokens in (laptop, phone):
        me = await client.get("/api/users/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 200

    response = await client.post(
        "/api/auth/logout", json={"refresh_token": laptop["refresh_token"]}
    )

    assert response.status_code == 204
    for tokens in (laptop, phone):
        me = await client.get("/api/users/me", headers=bearer(tokens["access_token"]))
        assert me.status_code == 401
        assert me.headers["WWW-Authenticate"] == "Bearer"
    # The other device is not logged out: its refresh token gets it a working pair.
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": phone["refresh_token"]}
    )
    assert refreshed.status_code == 200
    me = await client.get("/api/users/me", headers=bearer(refreshed.json()["access_token"]))
    assert me.status_code == 200


async def test_logout_accepts_an_unknown_token(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.post("/api/auth/logout", json={"refresh_token": "never-issued"})

    assert response.status_code == 204
    # Nobody's access tokens end for a token that revokes nothing.
    me = await client.get("/api/users/me", headers=user_headers)
    assert me.status_code == 200


async def test_logout_with_a_spent_refresh_token_ends_no_access_token(
    client: AsyncClient, user: User
) -> None:
    tokens = await login(client, user.email)
    rotated = await client.post(
        "/api/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert rotated.status_code == 200

    response = await client.post(
        "/api/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )

    assert response.status_code == 204
    me = await client.get("/api/users/me", headers=bearer(rotated.json()["access_token"]))
    assert me.status_code == 200


def _unsigned(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def _claims(user_id: uuid.UUID, **overrides: object) -> dict[str, object]:
    """The claims of a valid access token for a fresh user, changed by `overrides`."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": get_settings().jwt_issuer,
        "aud": get_settings().jwt_audience,
        "sub": str(user_id),
        "type": "access",
        "ver": 0,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda uid: _unsigned(_claims(uid)), id="alg-none"),
        pytest.param(lambda uid: sign(_claims(uid), "another-key-" + "x" * 32), id="bad-signature"),
        pytest.param(
            lambda uid: sign(_claims(uid), algorithm="HS512"),
            id="other-algorithm",
            # Signed with the service's own key; HS512 would want a longer one.
            marks=pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning"),
        ),
        pytest.param(
            lambda uid: sign(_claims(uid, exp=int(datetime.now(UTC).timestamp()) - 60)),
            id="expired",
        ),
        pytest.param(lambda uid: sign(_claims(uid, type="refresh")), id="refresh-type"),
        pytest.param(lambda uid: sign(_claims(uid, type=None)), id="no-type"),
        pytest.param(lambda uid: sign(_claims(uid, iat=None)), id="no-iat"),
        pytest.param(lambda uid: sign(_claims(uid, ver=None)), id="no-version"),
        pytest.param(lambda uid: sign(_claims(uid, ver="0")), id="string-version"),
        pytest.param(lambda uid: sign(_claims(uid, ver=1)), id="other-version"),
        pytest.param(lambda uid: sign(_claims(uid, sub="not-a-uuid")), id="bad-subject"),
        pytest.param(lambda uid: sign(_claims(uuid.uuid4())), id="unknown-user"),
        pytest.param(lambda uid: "not.a.jwt", id="garbage"),
    ],
)
async def test_invalid_access_tokens_are_refused(
    client: AsyncClient, user: User, make_token: Callable[[uuid.UUID], str]
) -> None:
    token = make_token(user.id)

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_the_claims_the_refused_tokens_start_from_are_accepted(
    client: AsyncClient, user: User
) -> None:
    response = await client.get("/api/users/me", headers=bearer(sign(_claims(user.id))))

    assert response.status_code == 200


async def test_access_token_of_an_older_version_is_refused(
    client: AsyncClient, session: AsyncSession, user: User
) -> None:
    old_token, _ = create_access_token(user.id, user.token_version)
    await UserRepository(session).increment_token_version(user.id)
    await session.commit()  # or the first refused request would roll the increment back
    new_token, _ = create_access_token(user.id, user.token_version)

    old = await client.get("/api/users/me", headers=bearer(old_token))
    new = await client.get("/api/users/me", headers=bearer(new_token))

    assert old.status_code == 401
    assert old.headers["WWW-Authenticate"] == "Bearer"
    assert old.json()["error"]["code"] == "unauthorized"
    assert new.status_code == 200


async def test_access_token_of_an_inactive_user_is_refused(
    client: AsyncClient, session: AsyncSession, user: User
) -> None:
    token, _ = create_access_token(user.id, user.token_version)
    user.is_active = False
    await session.flush()

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_access_token_of_a_deleted_user_is_refused(
    client: AsyncClient, session: AsyncSession, user: User
) -> None:
    token, _ = create_access_token(user.id, user.token_version)
    await session.delete(user)
    await session.flush()

    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_oversized_passwords_are_refused_before_hashing(
    client: AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[str] = []
    monkeypatch.setattr(account_module, "verify_password", _record(hashed))
    monkeypatch.setattr(account_module, "hash_password", _record(hashed))
    huge = "x" * 1_000_000

    login = await client.post("/api/auth/token", data={"username": user.email, "password": huge})
    register = await client.post("/api/users", json={"email": "bob@example.com", "password": huge})

    assert login.status_code == register.status_code == 422
    assert hashed == []
    assert huge not in login.text + register.text


def _record(calls: list[str]) -> Callable[..., Awaitable[object]]:
    async def record(password: str, *args: object) -> object:
        calls.append(password)
        raise AssertionError("a password was hashed")

    return record


async def test_login_limits_hold_across_two_instances_of_the_service(
    session: AsyncSession, transactions: Transactions, user: User
) -> None:
    # Two app instances, as two replicas behind a load balancer: they share nothing but
    # the store where the attempts are counted (Redis when the service has it, otherwise
    # the database).
    settings = get_settings()
    account = f"login:account:{email_digest(user.email)}"
    first, second = create_app(settings), create_app(settings)
    async with serve(first, transactions) as one, serve(second, transactions) as other:
        for attempt in range(settings.login_failures_per_account):
            replica = (one, other)[attempt % 2]
            failed = await replica.post(
                "/api/auth/token", data={"username": user.email, "password": "not-it"}
            )
            assert failed.status_code == 401

        locked = await one.post(
            "/api/auth/token", data={"username": user.email, "password": PASSWORD}
        )

    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_requests"
    assert 0 < int(locked.headers["Retry-After"]) <= settings.login_failure_window_seconds
    assert await counted_attempts(session, account) >= settings.login_failures_per_account


async def test_refreshes_are_limited_per_client(client: AsyncClient) -> None:
    for _ in range(get_settings().refreshes_per_client):
        response = await client.post("/api/auth/refresh", json={"refresh_token": "unknown"})
        assert response.status_code == 401

    refused = await client.post("/api/auth/refresh", json={"refresh_token": "unknown"})

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0


@pytest.mark.usefixtures("engine")
async def test_two_concurrent_refreshes_with_one_token_end_every_session() -> None:
    # The documented client rule: one refresh at a time. Two at once with the same token
    # look like a stolen copy, so one gets a new pair, the other a 401, and both end.
    accounts = AccountService(transaction, get_settings(), client="192.0.2.77")
    email = f"concurrent-{uuid.uuid4().hex}@example.com"
    try:
        await accounts.register(UserCreate(email=email, password=PASSWORD))
        tokens = await accounts.login(email, PASSWORD)

        results = await asyncio.gather(
            accounts.refresh(tokens.refresh_token),
            accounts.refresh(tokens.refresh_token),
            return_exceptions=True,
        )

        winners = [result for result in results if isinstance(result, TokenPair)]
        losers = [result for result in results if isinstance(result, UnauthorizedError)]
        assert (len(winners), len(losers)) == (1, 1)
        with pytest.raises(UnauthorizedError):
            await accounts.refresh(winners[0].refresh_token)
    finally:
        async with transaction() as session:
            await session.execute(delete(User).where(User.email == email))
            await session.execute(
                delete(RateLimitCounter).where(RateLimitCounter.key.endswith(":192.0.2.77"))
            )


async def test_login_normalises_the_email_exactly_as_registration_does(
    client: AsyncClient,
) -> None:
    decomposed = unicodedata.normalize("NFD", "José.Núñez@Example.com")
    registered = await client.post("/api/users", json={"email": decomposed, "password": PASSWORD})
    assert registered.status_code == 201

    for spelling in (decomposed, unicodedata.normalize("NFC", decomposed), decomposed.upper()):
        response = await client.post(
            "/api/auth/token", data={"username": spelling, "password": PASSWORD}
        )
        assert response.status_code == 200, spelling
