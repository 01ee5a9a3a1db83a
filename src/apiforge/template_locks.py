"""The uv lock files a template ships, one per database, worker and Python.

Every generated project starts with a `uv.lock`, so `uv sync --locked` installs
exactly the versions the template's tests proved green. `template/uv.lock.jinja`
includes the variant's file from `template/_locks/` (`postgresql-py3.12.lock`,
or `postgresql-taskiq-py3.12.lock` with the taskiq worker); after changing the
template's dependencies, lock them again (``scripts/lock_template.py``).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from apiforge.errors import UserError
from apiforge.gates import find_python, project_env
from apiforge.project import Installed
from apiforge.tools import find_uv

__all__ = ["PLACEHOLDER_NAME", "lock_name", "lock_variant"]

PLACEHOLDER_NAME = "apiforge-lock-placeholder"


def lock_name(database: str, python: str, worker: str = "none") -> str:
    """The file of one variant; a project without a worker keeps the name it always had."""
    flavour = database if worker == "none" else f"{database}-{worker}"
    return f"{flavour}-py{python}.lock"


def lock_variant(
    template: Path, database: str, python: str, *, worker: str = "none", upgrade: bool = False
) -> Path:
    """Lock one variant of the template in *template* (holding `copier.yml` and
    `template/`) and write its `template/_locks/` file; return that file.

    uv keeps the versions of the current lock file wherever they still fit; with
    *upgrade*, every dependency moves to its newest version that fits.
    """
    from apiforge.update import render_installed

    interpreter = find_python(python)
    if interpreter is None:
        raise UserError(f"Python {python} is needed to lock that variant; install it.")
    target = template / "template" / "_locks" / lock_name(database, python, worker)
    target.parent.mkdir(exist_ok=True)
    target.touch()  # uv.lock.jinja includes it, so it must exist to render
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / PLACEHOLDER_NAME
        answers = {
            "project_name": PLACEHOLDER_NAME,
            "database": database,
            "python_version": python,
            "worker": worker,
        }
        render_installed(Installed(template, "0.0.0"), project, answers)
        if upgrade:
            (project / "uv.lock").unlink(missing_ok=True)
        completed = subprocess.run(
            [find_uv(), "lock", "--quiet"],
            cwd=project,
            env=project_env(python=interpreter),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            lines = completed.stderr.strip().splitlines() or ["no output"]
            variant = database if worker == "none" else f"{database} with {worker}"
            raise UserError(f"uv lock failed for {variant} on Python {python}: {lines[-1]}")
        text = (project / "uv.lock").read_text(encoding="utf-8")
    text = text.replace(f'name = "{PLACEHOLDER_NAME}"', 'name = "{{ project_slug }}"')
    target.write_text(text, encoding="utf-8")
    return target
