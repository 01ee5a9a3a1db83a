import asyncio
import getpass
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

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


async def test_the_migrated_test_database_is_at_the_head(engine: AsyncEngine) -> None:
    scripts = cli.migration_scripts()

    assert await cli.database_revisions(engine) == set(scripts.get_heads())
    async with asyncio.timeout(60):  # a guard: it returns at its first check
        await cli.wait_for_migrations(engine, scripts)


def test_a_database_is_migrated_only_with_every_migration_of_the_release() -> None:
    scripts = cli.migration_scripts()
    [first] = scripts.get_bases()

    assert cli.is_migrated(scripts, scripts.get_heads())
    assert not cli.is_migrated(scripts, [])
    assert first not in scripts.get_heads()
    assert not cli.is_migrated(scripts, [first])


def test_a_revision_of_a_newer_release_counts_as_migrated() -> None:
    # The previous release still starts after the next one migrated (a rollback).
    assert cli.is_migrated(cli.migration_scripts(), ["0123456789ab"])


def test_wait_for_migrations_gives_up_after_its_timeout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [first] = cli.migration_scripts().get_bases()

    async def behind(engine: AsyncEngine) -> set[str]:
        return {first}

    monkeypatch.setattr(cli, "database_revisions", behind)

    assert cli.main(["wait-for-migrations", "--timeout", "0"]) == 1
    output = capsys.readouterr()
    assert "waiting: the migrations of this release have not run yet" in output.out
    assert "error: not migrated after 0 seconds" in output.err


def test_wait_for_migrations_waits_for_the_database_and_then_the_migrations(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scripts = cli.migration_scripts()
    [first] = scripts.get_bases()
    answers: list[set[str] | Exception] = [
        ConnectionRefusedError("refused"),
        {first},
        set(scripts.get_heads()),
    ]

    async def revisions(engine: AsyncEngine) -> set[str]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(cli, "database_revisions", revisions)

    assert cli.main(["wait-for-migrations", "--timeout", "60", "--interval", "0"]) == 0
    assert answers == []
    output = capsys.readouterr().out
    assert "the database is not reachable (ConnectionRefusedError)" in output
    assert "the migrations of this release have not run yet" in output
    assert output.rstrip().endswith("the database is migrated")
