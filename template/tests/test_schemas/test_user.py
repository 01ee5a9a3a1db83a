"""Emails in one canonical form, names with something in them, and the password policy."""

import os
import subprocess
import sys
import unicodedata

import pytest
from httpx import AsyncClient
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.config import get_settings
from src.core.passwords import common_passwords, is_common_password
from src.db.models import User
from src.db.repositories import UserRepository
from src.schemas.account import PasswordChange
from src.schemas.user import (
    PASSWORD_MIN_LENGTH,
    Password,
    UserCreate,
    UserUpdate,
    normalize_email,
)
from src.services.user import UserService
from tests.conftest import PASSWORD

NFD = "Jose\u0301@example.com"
NFC = "Jos\u00e9@example.com"
# "H" + COMBINING MACRON BELOW has no precomposed capital, but lowercase "h" + U+0331 is
# U+1E96: NFC, lowercased, is no longer NFC unless normalised again.
H_DECOMPOSED = "H\u0331@example.com"
H_PRECOMPOSED = "\u1e96@example.com"
# 64 characters that lowercase to two each: 247 characters as typed, 311 once lowercased.
LONG_DOMAIN = f"{'a' * 63}.{'b' * 63}.{'c' * 50}.com"
LENGTHENED_BY_LOWERCASE = "\u0130" * 64 + "@" + LONG_DOMAIN


def stored_email(email: str) -> str:
    """What registration stores for `email`."""
    return UserCreate(email=email, password=PASSWORD).email


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (NFD, "jos\u00e9@example.com"),
        (NFC, "jos\u00e9@example.com"),
        ("JOSE\u0301@EXAMPLE.COM", "jos\u00e9@example.com"),
        ("Alice@Example.COM", "alice@example.com"),
        (H_DECOMPOSED, "\u1e96@example.com"),
        (H_PRECOMPOSED, "\u1e96@example.com"),
        ("user@exa\u0301mple.COM", "user@ex\u00e1mple.com"),
    ],
)
def test_normalize_email_returns_what_registration_stores(value: str, expected: str) -> None:
    assert normalize_email(value) == stored_email(value) == expected
    assert unicodedata.is_normalized("NFC", expected)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "not-an-email",
        "a@b",
        "two@@example.com",
        "zero\u200bwidth@example.com",
        "bidi\u202e@example.com",
        "line@example.com\n",
        f"{'a' * 250}@example.com",
        LENGTHENED_BY_LOWERCASE,
    ],
)
def test_normalize_email_refuses_what_registration_refuses(value: str) -> None:
    assert normalize_email(value) is None
    with pytest.raises(ValidationError):
        stored_email(value)


def test_the_length_limit_applies_to_the_stored_form() -> None:
    assert len(LENGTHENED_BY_LOWERCASE) <= 254 < len(LENGTHENED_BY_LOWERCASE.lower())
    longest = f"{'a' * 64}@{LONG_DOMAIN}{'d' * 7}"

    assert normalize_email(longest) == longest
    assert len(longest) == 254


async def test_a_decomposed_email_finds_the_user_it_registered(session: AsyncSession) -> None:
    user = await UserService(session).register(UserCreate(email=NFD, password=PASSWORD))
    users = UserRepository(session)

    for typed in (NFD, NFC, NFD.upper()):
        email = normalize_email(typed)
        assert email is not None
        found = await users.get_by_email(email)
        assert found is not None
        assert found.id == user.id


@pytest.mark.parametrize(("first", "second"), [(NFD, NFC), (H_DECOMPOSED, H_PRECOMPOSED)])
async def test_equivalent_spellings_are_one_account(
    client: AsyncClient, first: str, second: str
) -> None:
    created = await client.post("/api/users", json={"email": first, "password": PASSWORD})
    again = await client.post("/api/users", json={"email": second, "password": PASSWORD})

    assert created.status_code == 201
    assert created.json()["email"] == normalize_email(first) == normalize_email(second)
    assert again.status_code == 409


@pytest.mark.parametrize(
    "full_name",
    [" ", "\u3000", "\u00a0 \u2003", "\t", "zero\u200bwidth", "bidi\u202eflip", "a\u2028b"],
)
def test_a_full_name_needs_visible_characters_and_no_invisible_ones(full_name: str) -> None:
    with pytest.raises(ValidationError):
        UserCreate(email="a@example.com", password=PASSWORD, full_name=full_name)
    with pytest.raises(ValidationError):
        UserUpdate(full_name=full_name)


@pytest.mark.parametrize("full_name", [" " + "n" * 100, "n" * 100 + "\u3000"])
def test_the_full_name_limit_counts_the_name_as_sent(full_name: str) -> None:
    # The OpenAPI document says 100 characters: spaces around the name count too.
    with pytest.raises(ValidationError):
        UserCreate(email="a@example.com", password=PASSWORD, full_name=full_name)


@pytest.mark.parametrize(
    ("full_name", "stored"),
    [(" Ann ", "Ann"), ("Zoë Ø'Brien", "Zoë Ø'Brien"), ("李小龍", "李小龍"), ("Ann 😀", "Ann 😀")],
)
def test_ordinary_full_names_are_accepted(full_name: str, stored: str) -> None:
    user = UserCreate(email="a@example.com", password=PASSWORD, full_name=full_name)

    assert user.full_name == stored


def test_the_password_minimum_comes_from_the_settings() -> None:
    assert PASSWORD_MIN_LENGTH == get_settings().password_min_length == 12
    schema = UserCreate.model_json_schema()["properties"]["password"]
    assert (schema["minLength"], schema["maxLength"]) == (12, 128)


def test_the_password_minimum_is_read_when_the_schemas_are_imported() -> None:
    code = (
        "from src.schemas.user import UserCreate\n"
        "print(UserCreate.model_json_schema()['properties']['password']['minLength'])"
    )
    completed = subprocess.run(  # noqa: S603 - this Python, running the code above
        [sys.executable, "-c", code],
        env={**os.environ, "PASSWORD_MIN_LENGTH": "20"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert completed.stdout.strip() == "20"


@pytest.mark.parametrize(
    ("password", "valid"),
    [
        ("x" * 11, False),
        ("x" * 12, True),
        ("correct-hors", True),
        ("x" * 128, True),
        ("x" * 129, False),
    ],
)
def test_password_length(password: str, *, valid: bool) -> None:
    if valid:
        assert TypeAdapter(Password).validate_python(password) == password
    else:
        with pytest.raises(ValidationError):
            TypeAdapter(Password).validate_python(password)


@pytest.mark.parametrize(
    "password", ["qwerty123456", "QWERTY123456", "1qaz2wsx3edc", "Leavemealone"]
)
def test_common_passwords_are_refused(password: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        UserCreate(email="a@example.com", password=password)
    assert excinfo.value.errors()[0]["type"] == "common_password"
    with pytest.raises(ValidationError):
        PasswordChange(current_password=PASSWORD, new_password=password)


def test_the_common_password_list_is_the_shipped_one() -> None:
    passwords = common_passwords()

    assert len(passwords) >= 30_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= passwords
    assert all(password == password.lower() for password in passwords)
    assert is_common_password("PassWord")
    assert not is_common_password(PASSWORD)


async def test_a_common_password_is_a_validation_error(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users", json={"email": "bob@example.com", "password": "Qwerty123456"}
    )

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {
            "loc": ["body", "password"],
            "msg": "This password is one of the most commonly used; choose another.",
            "type": "common_password",
        }
    ]
    assert "Qwerty123456" not in response.text


async def test_a_short_password_is_a_validation_error(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users", json={"email": "bob@example.com", "password": "elevenchars"}
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["type"] == "string_too_short"


@pytest.mark.parametrize("password", ["elevenchars", "qwertyuiop123"])
async def test_a_password_change_follows_the_policy(
    client: AsyncClient, user: User, user_headers: dict[str, str], password: str
) -> None:
    response = await client.post(
        "/api/users/me/password",
        headers=user_headers,
        json={"current_password": PASSWORD, "new_password": password},
    )

    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["loc"] == ["body", "new_password"]
