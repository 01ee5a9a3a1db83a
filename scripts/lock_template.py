"""Refresh the uv lock files the template ships, one per database, worker,
observability and Python.

Every generated project starts with a `uv.lock`, so `uv sync --locked` installs
exactly the versions apiforge's tests proved green. Run this after changing the
template's dependencies, then run the tests:

    uv run python scripts/lock_template.py            # keep the locked versions that still fit
    uv run python scripts/lock_template.py --upgrade  # move every dependency to its newest
"""

from __future__ import annotations

import sys
from itertools import product
from pathlib import Path

from apiforge.template import bundled_template_dir, load_questions
from apiforge.template_locks import lock_variant


def main() -> None:
    template = bundled_template_dir()
    questions = {question.name: question for question in load_questions(template)}
    variants = product(
        questions["database"].choices,
        questions["worker"].choices,
        (False, True),
        questions["python_version"].choices,
    )
    upgrade = "--upgrade" in sys.argv[1:]
    for database, worker, observability, python in variants:
        locked = lock_variant(
            template,
            database,
            python,
            worker=worker,
            observability=observability,
            upgrade=upgrade,
        )
        print(locked.relative_to(Path.cwd()), file=sys.stderr)


if __name__ == "__main__":
    main()
