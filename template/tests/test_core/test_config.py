import logging
import secrets
import time
import tomllib
from pathlib import Path

import pytest

from src.core.config import (
    MIN_SECRET_KEY_BITS_PER_CHARACTER,
    SettingsError,
    argon2_meets_minimums,
    get_settings,
    load_settings,
    secret_key_bits,
)

GOOD_SECRET = "Zq8v3nT1pW6yR0kB4mX9cJ2hF7dL5sGa"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings read from the variables set by each test only (no .env file here)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SECRET_KEY", GOOD_SECRET)
    for name in ("CORS_ORIGINS", "FIRST_SUPERUSER_EMAIL", "FIRST_SUPERUSER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


def test_valid_settings() -> None:
    settings = load_settings()

    assert settings.secret_key.get_secret_value() == GOOD_SECRET
    assert settings.access_token_expire_minutes == 15
    assert settings.cors_origins == []


def test_secret_key_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY")

    with pytest.raises(SettingsError, match="SECRET_KEY: is required"):
        load_settings()


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("", "at least 32 characters"),
        ("too-short-3a7d9f", "at least 32 characters"),
        ("changeme", "placeholder"),
        ("secret", "placeholder"),
        ("change-me-to-a-random-string-of-at-least-32-characters", "placeholder"),
        ("CHANGEME-CHANGEME-CHANGEME-CHANGEME", "placeholder"),
        ("a" * 48, "repetitive"),
    ],
)
def test_weak_secret_keys_are_refused(
    monkeypatch: pytest.MonkeyPatch, secret: str, reason: str
) -> None:
    monkeypatch.setenv("SECRET_KEY", secret)

    with pytest.raises(SettingsError, match=reason) as excinfo:
        load_settings()
    assert "SECRET_KEY" in str(excinfo.value)
    if len(secret) > 8:
        assert secret not in str(excinfo.value)


def test_secret_key_from_dotenv(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY")
    (tmp_path / ".env").write_text(f"SECRET_KEY={GOOD_SECRET}\n")

    assert load_settings().secret_key.get_secret_value() == GOOD_SECRET


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example"]', ["https://a.example"]),
        ("", []),
    ],
)
def test_cors_origins(monkeypatch: pytest.MonkeyPatch, value: str, expected: list[str]) -> None:
    monkeypatch.setenv("CORS_ORIGINS", value)

    assert load_settings().cors_origins == expected


def test_wildcard_origin_with_credentials_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "*")
    monkeypatch.setenv("CORS_ALLOW_CREDENTIALS", "true")

    with pytest.raises(SettingsError, match="cannot be combined"):
        load_settings()


def test_first_superuser_needs_both_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRST_SUPERUSER_EMAIL", "admin@example.com")

    with pytest.raises(SettingsError, match="FIRST_SUPERUSER_PASSWORD"):
        load_settings()


def test_first_superuser_password_has_no_default_and_a_minimum_length(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings().first_superuser_password is None
    monkeypatch.setenv("FIRST_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("FIRST_SUPERUSER_PASSWORD", "admin")

    with pytest.raises(SettingsError, match="FIRST_SUPERUSER_PASSWORD") as excinfo:
        load_settings()
    assert "admin" not in str(excinfo.value)


def test_security_policy_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "ARGON2_PARALLELISM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ARGON2_ALLOW_WEAK_PARAMETERS", raising=False)
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())

    settings = load_settings()

    assert settings.password_min_length == 12
    assert settings.jwt_issuer == project["project"]["name"]
    assert settings.jwt_audience == f"{project['project']['name']}-api"
    assert settings.argon2_allow_weak_parameters is False
    assert (settings.argon2_memory_cost, settings.argon2_time_cost) == (65536, 3)


@pytest.mark.parametrize(
    ("value", "valid"), [("7", False), ("8", True), ("128", True), ("129", False)]
)
def test_password_min_length_bounds(
    monkeypatch: pytest.MonkeyPatch, value: str, *, valid: bool
) -> None:
    monkeypatch.setenv("PASSWORD_MIN_LENGTH", value)

    if valid:
        assert load_settings().password_min_length == int(value)
    else:
        with pytest.raises(SettingsError, match="PASSWORD_MIN_LENGTH"):
            load_settings()


@pytest.mark.parametrize("name", ["JWT_ISSUER", "JWT_AUDIENCE"])
def test_token_issuer_and_audience_cannot_be_empty(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "")

    with pytest.raises(SettingsError, match=name):
        load_settings()


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("0123456789" * 4, id="repeated-digits"),
        pytest.param("0123456789" * 20, id="long-repeated-digits"),
        pytest.param("abcdefghijklmnopqrstuvwxyz0123456789", id="sequences"),
        pytest.param("qwertyuiopasdfghjklzxcvbnm1234567890", id="keyboard-rows"),
        pytest.param("Password123!Password123!Password123!", id="repeated-password"),
        pytest.param("9876543210zyxwvutsrqponmlkjihgfedcba", id="descending"),
        pytest.param("aaaaabbbbbcccccdddddeeeeefffffggggghhhhhiiiiijjjjj", id="runs"),
        pytest.param("ThisIsMySecretKeyForTheProductionServer", id="words"),
        pytest.param(secrets.token_urlsafe(24) + "x" * 100, id="random-then-padding"),
    ],
)
def test_predictable_secret_keys_are_refused(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("SECRET_KEY", secret)

    with pytest.raises(SettingsError, match=r"SECRET_KEY: is too predictable") as excinfo:
        load_settings()
    assert secret[:16] not in str(excinfo.value)
    judged = min(len(secret), 128)
    assert secret_key_bits(secret) < MIN_SECRET_KEY_BITS_PER_CHARACTER * judged


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(secrets.token_urlsafe(48), id="token_urlsafe-48"),
        pytest.param(secrets.token_urlsafe(24), id="token_urlsafe-24"),
        pytest.param("test-only-3a7d9f0c2b4e6a8d1f3c5e7b9d0a2c4e6f8b", id="test-key"),
        pytest.param(GOOD_SECRET, id="32-random-characters"),
        pytest.param("6c1e0b7f9a4d2e8c5b3a1f0e9d8c7b6a", id="32-hex-digits"),
        pytest.param(secrets.token_hex(64), id="128-hex-digits"),
        pytest.param(secrets.token_urlsafe(96) + "0" * 5000, id="long-key-random-start"),
    ],
)
def test_random_secret_keys_are_accepted(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    monkeypatch.setenv("SECRET_KEY", secret)

    assert load_settings().secret_key.get_secret_value() == secret


def test_only_the_start_of_a_long_secret_key_is_estimated(monkeypatch: pytest.MonkeyPatch) -> None:
    # zxcvbn's cost grows with the square of the length; a huge key must still load fast.
    monkeypatch.setenv("SECRET_KEY", "0123456789" * 13 + secrets.token_urlsafe(3000))

    started = time.perf_counter()
    with pytest.raises(SettingsError, match="too predictable"):
        load_settings()

    assert time.perf_counter() - started < 2


def _argon2(monkeypatch: pytest.MonkeyPatch, memory: int, time_cost: int, parallelism: int) -> None:
    monkeypatch.setenv("ARGON2_MEMORY_COST", str(memory))
    monkeypatch.setenv("ARGON2_TIME_COST", str(time_cost))
    monkeypatch.setenv("ARGON2_PARALLELISM", str(parallelism))
    monkeypatch.delenv("ARGON2_ALLOW_WEAK_PARAMETERS", raising=False)


@pytest.mark.parametrize(
    ("memory", "time_cost", "parallelism"),
    [
        (47104, 1, 1),
        (19456, 2, 1),
        (12288, 3, 1),
        (9216, 4, 1),
        (7168, 5, 1),
        (7168, 10, 1),
        (65536, 3, 4),
        (1048576, 1, 8),
    ],
)
def test_argon2_costs_at_or_above_owasp_minimums_are_accepted(
    monkeypatch: pytest.MonkeyPatch, memory: int, time_cost: int, parallelism: int
) -> None:
    _argon2(monkeypatch, memory, time_cost, parallelism)

    settings = load_settings()

    assert (settings.argon2_memory_cost, settings.argon2_time_cost) == (memory, time_cost)


@pytest.mark.parametrize(
    ("memory", "time_cost"),
    [(47103, 1), (19455, 2), (12287, 3), (9215, 4), (7167, 5), (7167, 100), (8, 1)],
)
def test_argon2_costs_below_owasp_minimums_are_refused(
    monkeypatch: pytest.MonkeyPatch, memory: int, time_cost: int
) -> None:
    _argon2(monkeypatch, memory, time_cost, 1)

    with pytest.raises(SettingsError, match="below OWASP's minimum") as excinfo:
        load_settings()
    assert f"ARGON2_MEMORY_COST={memory} with ARGON2_TIME_COST={time_cost}" in str(excinfo.value)
    assert "47104 with 1" in str(excinfo.value)


def test_weak_argon2_costs_need_the_explicit_opt_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _argon2(monkeypatch, 8, 1, 1)
    monkeypatch.setenv("ARGON2_ALLOW_WEAK_PARAMETERS", "true")

    with caplog.at_level(logging.WARNING, logger="src.core.config"):
        settings = load_settings()

    assert settings.argon2_memory_cost == 8
    assert "ARGON2_ALLOW_WEAK_PARAMETERS" in caplog.text
    assert "never use this setting in production" in caplog.text


def test_strong_argon2_costs_log_no_warning_even_with_the_opt_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _argon2(monkeypatch, 65536, 3, 4)
    monkeypatch.setenv("ARGON2_ALLOW_WEAK_PARAMETERS", "true")

    with caplog.at_level(logging.WARNING, logger="src.core.config"):
        load_settings()

    assert caplog.text == ""


def test_the_test_suite_runs_with_the_opt_out() -> None:
    settings = get_settings()

    assert settings.argon2_allow_weak_parameters is True
    assert not argon2_meets_minimums(settings.argon2_memory_cost, settings.argon2_time_cost)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("eleven-char", "at least 12 characters"),
        ("QWERTY123456", "most commonly used"),
        ("1qaz2wsx3edc", "most commonly used"),
    ],
)
def test_first_superuser_password_follows_the_password_policy(
    monkeypatch: pytest.MonkeyPatch, password: str, reason: str
) -> None:
    monkeypatch.setenv("FIRST_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("FIRST_SUPERUSER_PASSWORD", password)

    with pytest.raises(SettingsError, match=f"FIRST_SUPERUSER_PASSWORD: .*{reason}") as excinfo:
        load_settings()
    assert password not in str(excinfo.value)


def test_first_superuser_password_length_follows_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FIRST_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("FIRST_SUPERUSER_PASSWORD", "a-fine-superuser-passphrase")

    assert load_settings().first_superuser_password is not None
    monkeypatch.setenv("PASSWORD_MIN_LENGTH", "40")
    with pytest.raises(SettingsError, match="at least 40 characters"):
        load_settings()
