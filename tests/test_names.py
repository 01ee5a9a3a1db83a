from __future__ import annotations

import keyword
import re

import pytest

from apiforge.errors import UsageError
from apiforge.names import MAX_NAME_LENGTH, RESERVED_NAMES, check_project_name, slugify
from apiforge.template import Template, bundled_template_dir


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


def test_copier_yml_refuses_exactly_the_names_apiforge_refuses() -> None:
    """copier.yml's project_name validator (for `copier copy` and forms that ask at the
    terminal) and check_project_name are one rule: the same reserved names, keywords and
    length limit."""
    template = Template.load(bundled_template_dir())
    question = template.question("project_name")
    assert question is not None
    validator = template.environment().from_string(question.validator)
    listed = set(re.findall(r"'([a-z]+)'", question.validator))
    words = {*RESERVED_NAMES, *(word.lower() for word in keyword.kwlist), *listed}
    candidates = {
        *words,
        *(word.upper() for word in words),
        *(word.capitalize() for word in words),
        "x" * MAX_NAME_LENGTH,
        "x" * (MAX_NAME_LENGTH + 1),
        *("my-service", "Billing_API", "svc2", "src_api", "fast-api", "classy"),
        *("", "9lives", "my service", "café", "-svc", "_svc"),
    }

    def refused_by_template(name: str) -> bool:
        return bool(validator.render(project_name=name).strip())

    def refused_by_apiforge(name: str) -> bool:
        try:
            check_project_name(name)
        except UsageError:
            return True
        return False

    disagreeing = [
        name
        for name in sorted(candidates)
        if refused_by_template(name) != refused_by_apiforge(name)
    ]
    assert disagreeing == []
