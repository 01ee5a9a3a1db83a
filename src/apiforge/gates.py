"""The gates a generated project must pass, and running them.

`apiforge verify` and apiforge's own tests both call :func:`run_gates`, so CI
proves the template with exactly the commands a team would run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from apiforge.errors import UserError

__all__ = ["GATES", "Gate", "GateResult", "find_python", "project_env", "run_gates"]


@dataclass(frozen=True)
class Gate:
    """A named check made of commands run in order inside the project."""

    name: str
    commands: tuple[tuple[str, ...], ...]


GATES: tuple[Gate, ...] = (
    Gate("install", (("uv", "sync", "--quiet"),)),
    Gate("tests", (("uv", "run", "--no-sync", "pytest", "-q", "-p", "no:cacheprovider"),)),
    Gate("lint", (("uv", "run", "--no-sync", "ruff", "check", "."),)),
    Gate("format", (("uv", "run", "--no-sync", "ruff", "format", "--check", "."),)),
    Gate("types", (("uv", "run", "--no-sync", "mypy", "."),)),
    Gate(
        "migrations",
        (
            ("uv", "run", "--no-sync", "alembic", "upgrade", "head"),
            ("uv", "run", "--no-sync", "alembic", "downgrade", "base"),
            ("uv", "run", "--no-sync", "alembic", "upgrade", "head"),
            ("uv", "run", "--no-sync", "alembic", "check"),
        ),
    ),
)


@dataclass(frozen=True)
class GateResult:
    name: str
    ok: bool
    seconds: float
    output: str
    command: str


def find_python(version: str) -> str | None:
    """An interpreter for *version* ("3.12") on this machine, or None."""
    found = shutil.which(f"python{version}")
    if found:
        return found
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    for candidate in sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}")):
        return str(candidate)
    return None


def project_env(
    extra: Mapping[str, str] | None = None, python: str | None = None
) -> dict[str, str]:
    """The environment for commands in a generated project.

    It drops the variables of whatever virtual environment apiforge runs in, keeps
    uv's shared cache, and never lets uv download an interpreter.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "UV_PYTHON"}
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.pop("DATABASE_URL", None)
    env.pop("TEST_DATABASE_URL", None)
    if python:
        env["UV_PYTHON"] = python
    env.update(extra or {})
    return env


def run_gates(
    project: Path,
    *,
    env: Mapping[str, str],
    gates: Sequence[Gate] = GATES,
    on_result: Callable[[GateResult], None] | None = None,
    stop_on_failure: bool = True,
) -> list[GateResult]:
    """Run *gates* in *project*; stop at the first failure unless told otherwise."""
    if shutil.which("uv") is None:
        raise UserError("uv is not installed; install it (pip install uv) to run the gates.")
    results: list[GateResult] = []
    for gate in gates:
        started = time.perf_counter()
        outputs: list[str] = []
        ok = True
        shown = ""
        for command in gate.commands:
            shown = " ".join(command)
            completed = subprocess.run(
                command,
                cwd=project,
                env=dict(env),
                capture_output=True,
                text=True,
                check=False,
            )
            outputs.append(f"$ {shown}\n{completed.stdout}{completed.stderr}")
            if completed.returncode != 0:
                ok = False
                break
        result = GateResult(gate.name, ok, time.perf_counter() - started, "".join(outputs), shown)
        results.append(result)
        if on_result is not None:
            on_result(result)
        if not ok and stop_on_failure:
            break
    return results
