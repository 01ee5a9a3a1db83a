import getpass
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from src import cli
from src.db.models import RateLimitCounter, RefreshToken, User
from src.db.session import transaction
from src.services.maintenance import purge_tokens


@pytest.fixture
def created(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Record what would be created instead of touching the database."""
    calls: list[tuple[str, str]] = []

    async def fake_create(email: str, password: str) -> bool:
        calls.append((email, password))
        return len(calls) == 1

    monkeypatch.setattr(cli, "_create_superuser", fake_create)
    monkeypatch.delenv("SUPERUSER_PASSWORD", raising=False)
    return calls


def test_password_from_the_environment(
    created: list[tuple[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SUPERUSER_PASSWORD", "from-the-env")

    assert cli.main(["create-superuser", "Admin@Example.com"]) == 0
    assert created == [("admin@example.com", "from-the-env")]
    assert "created superuser admin@example.com" in capsys.readouterr().out


def test_password_from_the_prompt(
    created: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(getpass, "getpass", lambda prompt: "typed-password")

    assert cli.main(["create-superuser", "admin@example.com"]) == 0
    assert created == [("admin@example.com", "typed-password")]


def test_prompted_passwords_must_match(
    created: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["first-password", "second-password"])
    monkeypatch.setattr(getpass, "getpass", lambda prompt: next(answers))

    assert cli.main(["create-superuser", "admin@example.com"]) == 2
    assert created == []


@pytest.mark.parametrize(
    ("email", "password"), [("not-an-email", "long-enough-password"), ("a@b.co", "short")]
)
def test_invalid_input(
    created: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch, email: str, password: str
) -> None:
    monkeypatch.setenv("SUPERUSER_PASSWORD", password)

    assert cli.main(["create-superuser", email]) == 2
    assert created == []


def test_existing_user(created: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERUSER_PASSWORD", "long-enough-password")
    cli.main(["create-superuser", "admin@example.com"])

    assert cli.main(["create-superuser", "admin@example.com"]) == 1


@pytest.mark.usefixtures("engine")
async def test_purge_tokens_deletes_what_has_expired_only() -> None:
    now = datetime.now(UTC)
    day = timedelta(days=1)
    async with transaction() as session:
        user = User(email=f"purge-{uuid.uuid4().hex}@example.com", hashed_password="x")
        session.add(user)
        await session.flush()
        session.add_all(
            [
                RefreshToken(user_id=user.id, token_hash=uuid.uuid4().hex, expires_at=now - day),
                RefreshToken(
                    user_id=user.id,
                    token_hash=uuid.uuid4().hex,
                    expires_at=now + day,
                    revoked_at=now - day,  # kept: a reused copy must still raise the alarm
                ),
                RateLimitCounter(key=f"test:ended:{user.id}", hits=3, window_ends_at=now - day),
                RateLimitCounter(key=f"test:open:{user.id}", hits=3, window_ends_at=now + day),
            ]
        )
    try:
        tokens, counters = await purge_tokens(now)

        assert (tokens, counters) == (1, 1)
        async with transaction() as session:
            kept = await session.scalars(
                select(RefreshToken).where(RefreshToken.user_id == user.id)
            )
            assert [token.expires_at > now for token in kept] == [True]
            keys = await session.scalars(select(RateLimitCounter.key))
            assert f"test:open:{user.id}" in keys.all()
    finally:
        async with transaction() as session:
            await session.execute(delete(User).where(User.id == user.id))
            await session.execute(
                delete(RateLimitCounter).where(RateLimitCounter.key.startswith("test:"))
            )
