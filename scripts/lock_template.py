"""Refresh the uv locks the template ships, one per database, worker, observability and
Python, merged into one file per Python (`template/_locks/py3.12.lock.jinja`).

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
from apiforge.template_locks import lock_variant, locks_file, read_locks


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
    locks = read_locks(template)
    for database, worker, observability, python in variants:
        name = lock_variant(
            template,
            database,
            python,
            worker=worker,
            observability=observability,
            upgrade=upgrade,
            locks=locks,
        )
        print(f"{name}: {locks_file(template, python).relative_to(Path.cwd())}", file=sys.stderr)


if __name__ == "__main__":
    main()
