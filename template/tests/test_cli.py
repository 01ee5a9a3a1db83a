import getpass

import pytest

from src import cli


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
