from __future__ import annotations

import pytest

from apiforge.errors import UsageError
from apiforge.names import check_project_name, slugify


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("my-service", "my-service"),
        ("Billing_API", "billing-api"),
        ("svc2", "svc2"),
        ("a__b--c", "a-b-c"),
    ],
)
def test_valid_names_give_their_slug(name: str, slug: str) -> None:
    assert check_project_name(name) == slug
    assert slugify(name) == slug


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("9lives", "starts with a digit"),
        ("my service", "not valid"),
        ("café", "not valid"),
        ("-svc", "not valid"),
        ("class", "Python keyword"),
        ("None", "Python keyword"),
        ("src", "reserved"),
        ("FastAPI", "reserved"),
        ("x" * 65, "longer than"),
    ],
)
def test_invalid_names_are_refused_with_a_reason(name: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        check_project_name(name)
    assert "\n" not in str(info.value)
