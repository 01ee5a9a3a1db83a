"""The template's uv locks, merged into one Jinja file per Python and rendered back."""

from __future__ import annotations

import pytest

from apiforge.template_locks import merge_locks, render_lock, variants_of

HEADER = 'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n\n'


def package(name: str, version: str, *dependencies: str) -> str:
    lines = [f'[[package]]\nname = "{name}"\nversion = "{version}"\n']
    if dependencies:
        listed = ", ".join(f'{{ name = "{dependency}" }}' for dependency in dependencies)
        lines.append(f"dependencies = [{listed}]\n")
    return "".join(lines) + "\n"


def root(*dependencies: str) -> str:
    return package("{{ project_slug }}", "0.1.0", *dependencies)


LOCKS = {
    "sqlite-py3.11": HEADER
    + package("aiosqlite", "0.22.1")
    + package("fastapi", "0.165.0")
    + root("aiosqlite", "fastapi"),
    "postgresql-py3.11": HEADER
    + package("asyncpg", "0.32.0")
    + package("fastapi", "0.165.0")
    + root("asyncpg", "fastapi"),
    "postgresql-taskiq-py3.11": HEADER
    + package("asyncpg", "0.32.0")
    + package("fastapi", "0.165.0")
    + package("redis", "8.0.0")
    + root("asyncpg", "fastapi", "redis")
    + package("taskiq", "0.13.0", "redis"),
}


def test_each_variant_renders_back_byte_for_byte() -> None:
    merged = merge_locks(LOCKS)
    assert variants_of(merged) == sorted(LOCKS)
    for name, text in LOCKS.items():
        assert render_lock(merged, name) == text
    shop = render_lock(merged, "sqlite-py3.11", project_slug="shop")
    assert 'name = "shop"' in shop
    assert "{{" not in shop


def test_shared_sections_are_kept_once() -> None:
    merged = merge_locks(LOCKS)
    assert merged.count('[[package]]\nname = "fastapi"') == 1
    assert merged.count('[[package]]\nname = "asyncpg"') == 1
    assert merged.count(HEADER) == 1


def test_an_unknown_variant_is_refused_by_name() -> None:
    with pytest.raises(KeyError, match=r"sqlite-py3\.12"):
        render_lock(merge_locks(LOCKS), "sqlite-py3.12")


def test_nothing_in_a_lock_is_read_as_jinja() -> None:
    odd = HEADER + package("braces", "1.0") + "# {% if %} {# x #} {{ other }}\n\n" + root()
    merged = merge_locks({"sqlite-py3.11": odd})
    assert render_lock(merged, "sqlite-py3.11") == odd


def test_contradicting_orders_and_bad_names_are_refused() -> None:
    a, b = package("a", "1"), package("b", "1")
    with pytest.raises(ValueError, match="contradicting"):
        merge_locks({"one-py3.11": HEADER + a + b, "two-py3.11": HEADER + b + a})
    with pytest.raises(ValueError, match="not a variant name"):
        merge_locks({'x"] or true or ["': HEADER})
    with pytest.raises(ValueError, match="endraw"):
        merge_locks({"one-py3.11": HEADER + "# {% endraw %}\n"})
