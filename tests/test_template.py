"""The template rendered with pytest-copie: its tree, leftovers and syntax, per variant."""

from __future__ import annotations

import py_compile
import re
from pathlib import Path
from typing import Any

import pytest
from helpers import render

VARIANTS: dict[str, dict[str, Any]] = {
    "sqlite": {},
    "postgresql": {"database": "postgresql"},
    "python-3.13": {"python_version": "3.13", "project_name": "Billing_API"},
}

# The layout of the service, as the project's conventions define it.
EXPECTED_FILES = [
    ".copier-answers.yml",
    ".env.example",
    ".gitignore",
    "README.md",
    "alembic.ini",
    "alembic/env.py",
    "pyproject.toml",
    "src/__init__.py",
    "src/main.py",
    "src/api/deps.py",
    "src/api/routes/__init__.py",
    "src/api/routes/auth.py",
    "src/api/routes/health.py",
    "src/api/routes/users.py",
    "src/core/config.py",
    "src/core/exceptions.py",
    "src/core/security.py",
    "src/db/session.py",
    "src/schemas/auth.py",
    "src/schemas/user.py",
    "tests/conftest.py",
]
EXPECTED_DIRS = [
    "alembic/versions",
    "src/db/models",
    "src/db/repositories",
    "src/services",
    "tests/test_api",
    "tests/test_services",
]


@pytest.mark.parametrize("answers", VARIANTS.values(), ids=VARIANTS.keys())
def test_tree_follows_the_conventions(
    copie: Any, template_dir: Path, answers: dict[str, Any]
) -> None:
    project = render(copie, template_dir, answers)
    missing = [name for name in EXPECTED_FILES if not (project / name).is_file()]
    missing += [name for name in EXPECTED_DIRS if not any((project / name).glob("*.py"))]
    assert missing == []
    assert list(project.rglob("*.jinja")) == []


def _without_ci_expressions(path: Path) -> str:
    """The file's text without GitHub Actions expressions (`${{ matrix.python }}`)."""
    return re.sub(r"\$\{\{.*?\}\}", "", path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("answers", VARIANTS.values(), ids=VARIANTS.keys())
def test_no_template_syntax_is_left_and_python_compiles(
    copie: Any, template_dir: Path, answers: dict[str, Any]
) -> None:
    project = render(copie, template_dir, answers)
    leftovers = [
        path.relative_to(project).as_posix()
        for path in project.rglob("*")
        if path.is_file()
        and any(mark in _without_ci_expressions(path) for mark in ("{{", "{%", "{#"))
    ]
    assert leftovers == []
    for path in project.rglob("*.py"):
        py_compile.compile(str(path), doraise=True)


def test_postgresql_variant_has_compose_and_no_credentials(copie: Any, template_dir: Path) -> None:
    project = render(copie, template_dir, {"database": "postgresql"})
    assert (project / "compose.yaml").is_file()
    assert "asyncpg" in (project / "pyproject.toml").read_text()
    assert "aiosqlite" not in (project / "pyproject.toml").read_text()
    for path in project.rglob("*"):
        if path.is_file():
            assert "postgres:postgres@" not in path.read_text(encoding="utf-8"), path


def test_sqlite_variant_has_no_postgresql_parts(copie: Any, template_dir: Path) -> None:
    project = render(copie, template_dir, {})
    compose = (project / "compose.yaml").read_text()
    assert "postgres" not in compose
    assert "POSTGRES_" not in (project / ".env.example").read_text()
    pyproject = (project / "pyproject.toml").read_text()
    assert "aiosqlite" in pyproject
    assert "asyncpg" not in pyproject


@pytest.mark.parametrize("version", ["3.11", "3.12", "3.13"])
def test_python_version_sets_requires_python(copie: Any, template_dir: Path, version: str) -> None:
    project = render(copie, template_dir, {"python_version": version})
    assert f'requires-python = ">={version}"' in (project / "pyproject.toml").read_text()
    assert (project / ".python-version").read_text().strip() == version


@pytest.mark.parametrize("answers", VARIANTS.values(), ids=VARIANTS.keys())
def test_project_ships_the_lock_of_its_variant(
    copie: Any, template_dir: Path, answers: dict[str, Any]
) -> None:
    project = render(copie, template_dir, answers)
    lock = (project / "uv.lock").read_text(encoding="utf-8")
    slug = str(answers.get("project_name", "my-service")).lower().replace("_", "-")
    version = answers.get("python_version", "3.11")
    assert f'requires-python = ">={version}"' in lock
    assert f'name = "{slug}"' in lock
    assert ("asyncpg" in lock) == (answers.get("database") == "postgresql")
