"""Helpers shared by apiforge's test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import os
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


def git(project: Path, *args: str) -> str:
    """Run git in *project*; its output. A failing command fails the test."""
    return subprocess.run(
        ["git", *args], cwd=project, capture_output=True, text=True, check=True
    ).stdout


def commit(project: Path, files: dict[str, str], message: str = "Team work") -> None:
    """Write *files* (relative path -> text) into *project* and commit everything."""
    for name, text in files.items():
        path = project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", message)


def everything(project: Path) -> dict[str, bytes]:
    """Every byte below *project*, .git included."""
    return {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file()
    }
