"""Names with something in them."""

import pytest
from pydantic import ValidationError

from src.schemas.user import UserCreate, UserUpdate
from tests.conftest import PASSWORD


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
