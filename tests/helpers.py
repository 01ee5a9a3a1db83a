"""Helpers shared by apiforge's test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
"""Under CI a test that cannot run here (no PostgreSQL, no Python 3.13) fails instead of
skipping."""

EVERY_TYPE = [
    "name:str:120",
    "sku:str:32:unique:index",
    "body:text?",
    "quantity:int",
    "rating:float?",
    "price:decimal",
    "in_stock:bool",
    "released:date?",
    "published_at:datetime:index",
    "ref:uuid?:unique",
]
"""`--field` specs with every field type and modifier a resource takes."""

CATEGORY = ["title:str:100:unique", "note:text?"]
"""A plain resource's fields: a unique short text and an optional long one."""

CATEGORY_SERVICE_EDIT = '\n\ndef describe() -> str:\n    return "Categories group products."\n'
"""What a team appends to the category resource's service (src/services/category.py)."""

CATEGORY_SERVICE_TEST = (
    "from src.services.category import describe\n\n\n"
    "def test_describe() -> None:\n"
    '    assert describe() == "Categories group products."\n'
)
"""The team's test of it (tests/test_services/test_category_describe.py)."""


def git(project: Path, *args: str) -> str:
    """Run git in *project*; its output. A failing command fails the test."""
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def commit(project: Path, files: dict[str, str], message: str = "Team work") -> None:
    """Write *files* (relative path -> text) into *project* and commit everything."""
    write_files(project, files)
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def everything(project: Path) -> dict[str, bytes]:
    """Every byte below *project*, .git included."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }


SMALL_COPIER_YML = """\
_subdirectory: template
_templates_suffix: .jinja
_answers_file: .copier-answers.yml

project_name:
  type: str
  default: demo
database:
  type: str
  choices: [sqlite, postgresql]
  default: sqlite
"""
"""The copier.yml of the small templates the update tests write."""


def write_files(folder: Path, files: dict[str, str]) -> Path:
    """Write *files* (relative path -> text) below *folder*; return *folder*."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def copy_template(source: Path, dest: Path) -> Path:
    """Copy the template in *source* (`copier.yml` and `template/`) to *dest*."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "copier.yml", dest / "copier.yml")
    shutil.copytree(source / "template", dest / "template")
    return dest
