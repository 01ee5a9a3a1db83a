"""The uv lock files a template ships, one per set of dependencies: database, worker,
observability and Python.

Every generated project starts with a `uv.lock`, so `uv sync --locked` installs
exactly the versions the template's tests proved green. `template/uv.lock.jinja`
includes the variant's file from `template/_locks/` (`postgresql-py3.12.lock`,
`postgresql-taskiq-observability-py3.12.lock` with the worker and observability);
after changing the template's dependencies, lock them again
(``scripts/lock_template.py``).
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


def lock_name(
    database: str, python: str, worker: str = "none", *, observability: bool = False
) -> str:
    """The file of one variant; a project with neither worker nor observability keeps
    the name it always had."""
    parts = [database]
    if worker != "none":
        parts.append(worker)
    if observability:
        parts.append("observability")
    return f"{'-'.join(parts)}-py{python}.lock"


def lock_variant(
    template: Path,
    database: str,
    python: str,
    *,
    worker: str = "none",
    observability: bool = False,
    upgrade: bool = False,
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
    name = lock_name(database, python, worker, observability=observability)
    target = template / "template" / "_locks" / name
    target.parent.mkdir(exist_ok=True)
    target.touch()  # uv.lock.jinja includes it, so it must exist to render
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / PLACEHOLDER_NAME
        answers = {
            "project_name": PLACEHOLDER_NAME,
            "database": database,
            "python_version": python,
            "worker": worker,
            "observability": observability,
        }
        render_installed(Installed(template, "0.0.0"), project, answers)
        rendered = project / "uv.lock"
        if upgrade:
            rendered.unlink()
        elif not rendered.read_text(encoding="utf-8").strip():
            _seed(rendered, target.with_name(lock_name(database, python, worker)))
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
            variant = name.removesuffix(".lock")
            raise UserError(f"uv lock failed for {variant}: {lines[-1]}")
        text = (project / "uv.lock").read_text(encoding="utf-8")
    text = text.replace(f'name = "{PLACEHOLDER_NAME}"', 'name = "{{ project_slug }}"')
    target.write_text(text, encoding="utf-8")
    return target


def _seed(lock: Path, base: Path) -> None:
    """Start a new variant's *lock* from the versions of its *base* variant (the same
    without observability), so that the packages they share stay at the same versions."""
    if base == lock or not base.is_file() or not base.read_text(encoding="utf-8").strip():
        lock.unlink()
        return
    text = base.read_text(encoding="utf-8")
    lock.write_text(text.replace('name = "{{ project_slug }}"', f'name = "{PLACEHOLDER_NAME}"'))
