"""Refresh the uv lock files the template ships, one per database and Python.

Every generated project starts with a `uv.lock`, so `uv sync --locked` installs
exactly the versions apiforge's tests proved green. Run this after changing the
template's dependencies, then run the tests:

    uv run python scripts/lock_template.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from itertools import product
from pathlib import Path

from apiforge.gates import find_python, project_env
from apiforge.render import TemplateSource, render_template
from apiforge.template_source import bundled_template_dir, load_questions

PLACEHOLDER_NAME = "apiforge-lock-placeholder"
LOCKS = bundled_template_dir() / "template" / "_locks"


def lock_name(database: str, python: str) -> str:
    return f"{database}-py{python}.lock"


def refresh(database: str, python: str) -> Path:
    interpreter = find_python(python)
    if interpreter is None:
        raise SystemExit(f"Python {python} is needed to lock that variant; install it.")
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / PLACEHOLDER_NAME
        render_template(
            TemplateSource.bundled(),
            project,
            data={"project_name": PLACEHOLDER_NAME, "database": database, "python_version": python},
            defaults=True,
        )
        (project / "uv.lock").unlink(missing_ok=True)
        subprocess.run(
            ["uv", "lock", "--quiet"],
            cwd=project,
            env=project_env(python=interpreter),
            check=True,
        )
        text = (project / "uv.lock").read_text(encoding="utf-8")
    text = text.replace(f'name = "{PLACEHOLDER_NAME}"', 'name = "{{ project_slug }}"')
    target = LOCKS / lock_name(database, python)
    target.write_text(text, encoding="utf-8")
    return target


def main() -> None:
    questions = {question.name: question for question in load_questions(bundled_template_dir())}
    LOCKS.mkdir(exist_ok=True)
    variants = list(product(questions["database"].choices, questions["python_version"].choices))
    for database, python in variants:
        # uv.lock.jinja includes the variant's lock, so it must exist before rendering.
        (LOCKS / lock_name(database, python)).touch()
    for database, python in variants:
        print(refresh(database, python).relative_to(Path.cwd()), file=sys.stderr)


if __name__ == "__main__":
    main()
