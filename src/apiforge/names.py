"""Checks for the names a user types: project names and their derived forms."""

from __future__ import annotations

import keyword
import re

from apiforge.errors import UsageError

__all__ = ["MAX_NAME_LENGTH", "RESERVED_NAMES", "check_project_name", "slugify"]

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")

# Names that would shadow the generated project's own packages or the libraries
# it imports, which breaks `uv sync` or imports in confusing ways. The template's
# project_name validator in copier.yml refuses the same names, Python's keywords and
# the same length; tests/test_names.py fails when the two disagree.
RESERVED_NAMES = frozenset(
    {
        "alembic",
        "apiforge",
        "app",
        "fastapi",
        "httpx",
        "main",
        "pydantic",
        "pytest",
        "site",
        "sqlalchemy",
        "src",
        "starlette",
        "test",
        "tests",
        "typing",
        "uvicorn",
    }
)

MAX_NAME_LENGTH = 64


def slugify(name: str) -> str:
    """Return the distribution name (PEP 503 normalised, hyphenated) for *name*."""
    return re.sub(r"[-_]+", "-", name).lower()


def check_project_name(name: str) -> str:
    """Validate a project name and return its slug.

    Raises :class:`UsageError` with a one-line explanation of what is allowed.
    """
    allowed = "use letters, digits, '-' and '_', starting with a letter"
    if not name:
        raise UsageError(f"The project name is empty: {allowed}.")
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(f"The project name is longer than {MAX_NAME_LENGTH} characters.")
    if name[0].isdigit():
        raise UsageError(f"The project name {name!r} starts with a digit: {allowed}.")
    if not _NAME_RE.match(name):
        raise UsageError(f"The project name {name!r} is not valid: {allowed}.")
    lowered = name.lower()
    snake = lowered.replace("-", "_")
    if keyword.iskeyword(snake) or snake in {"true", "false", "none"}:
        raise UsageError(f"The project name {name!r} is a Python keyword; choose another name.")
    slug = slugify(name)
    if slug in RESERVED_NAMES or snake in RESERVED_NAMES:
        raise UsageError(
            f"The project name {name!r} is reserved (it would shadow a package the "
            "service uses); choose another name."
        )
    return slug
