"""Helpers shared by apiforge's test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from apiforge.tools import find_uv

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


def render(copie: Any, template_dir: Path, answers: dict[str, Any]) -> Path:
    """The project that copier renders from *template_dir* with *answers* (pytest-copie)."""
    result = copie.copy(extra_answers=answers, template_dir=template_dir)
    assert result.exit_code == 0, result.exception
    project: Path = result.project_dir
    return project


def dependency_names(project: Path, *, dev: bool = True) -> set[str]:
    """The distribution names *project* installs (its dev group too, when asked)."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    specs = list(pyproject["project"]["dependencies"])
    if dev:
        specs += pyproject.get("dependency-groups", {}).get("dev", [])
    names = set()
    for spec in specs:
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
        assert match is not None, spec
        names.add(match.group(0).lower().replace("_", "-"))
    return names


def copy_template(source: Path, dest: Path) -> Path:
    """Copy the template in *source* (`copier.yml` and `template/`) to *dest*."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "copier.yml", dest / "copier.yml")
    shutil.copytree(source / "template", dest / "template")
    return dest


# Run inside the project's environment: `seed` writes three rows into every table,
# `dump` prints the primary keys of every table, so a test can compare them.
ROWS = """
import asyncio, datetime, decimal, json, sys, uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from src.core.config import get_settings


def value(column: sa.Column, i: int) -> object:
    kind = column.type.python_type
    if kind is uuid.UUID:
        return uuid.uuid4()
    if kind is str:
        text = f"row{i}@example.com" if "email" in column.name else f"r{i}-{column.name}"
        return text[: getattr(column.type, "length", None) or 64]
    if kind is bool:
        return i % 2 == 0
    if kind is int:
        return i
    if kind is float:
        return i + 0.5
    if kind is decimal.Decimal:
        return decimal.Decimal(i) + decimal.Decimal("0.25")
    if kind is datetime.datetime:
        return datetime.datetime(2026, 1, 1 + i, tzinfo=datetime.UTC)
    if kind is datetime.date:
        return datetime.date(2026, 1, 1 + i)
    raise TypeError(f"no sample for {column}")


async def main(mode: str) -> None:
    engine = create_async_engine(get_settings().database_url)
    async with engine.begin() as connection:
        def work(sync: sa.Connection) -> dict[str, list[str]]:
            metadata = sa.MetaData()
            metadata.reflect(sync)
            tables = [t for t in metadata.sorted_tables if t.name != "alembic_version"]
            if mode == "seed":
                keys: dict[str, list[object]] = {}
                for table in tables:
                    rows = []
                    for i in range(3):
                        row = {}
                        for column in table.columns:
                            if column.foreign_keys:
                                target = next(iter(column.foreign_keys)).column
                                row[column.name] = keys[target.table.name][0]
                            else:
                                row[column.name] = value(column, i)
                        rows.append(row)
                    sync.execute(table.insert(), rows)
                    keys[table.name] = [row[table.primary_key.columns.keys()[0]] for row in rows]
            return {
                table.name: sorted(str(key) for key in sync.execute(
                    sa.select(*table.primary_key.columns)
                ).scalars())
                for table in tables
            }
        print(json.dumps(await connection.run_sync(work)))
    await engine.dispose()


asyncio.run(main(sys.argv[1]))
"""


def run(project: Path, env: dict[str, str], *args: str) -> str:
    """`uv ARGS` in *project*, which must succeed; its output."""
    completed = subprocess.run(
        [find_uv(), *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, f"uv {' '.join(args)}:\n{completed.stdout}{completed.stderr}"
    return completed.stdout


def rows(project: Path, env: dict[str, str], mode: str) -> dict[str, list[str]]:
    """Seed three rows into every table (`seed`) or read them (`dump`): primary keys by table."""
    output = run(project, env, "run", "--no-sync", "python", "-c", ROWS, mode)
    loaded: dict[str, list[str]] = json.loads(output.strip().splitlines()[-1])
    return loaded
