"""Generate whole projects, install them with uv and run their own gates.

These are the slow tests: each one proves that a variant of the template passes
its tests, lint, format check, strict type check and migrations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from apiforge.gates import GATES, find_python, project_env, run_gates
from apiforge.new import NewOptions, create_project
from apiforge.pgserver import PostgresServer

pytestmark = pytest.mark.slow


def _generate(root: Path, answers: dict[str, Any]) -> Path:
    result = create_project(NewOptions(target=root / "svc", data=answers, git=False))
    return result.path


def _assert_green(project: Path, env: dict[str, str]) -> None:
    results = run_gates(project, env=env)
    failed = [result for result in results if not result.ok]
    report = "\n\n".join(f"[{result.name}] {result.output[-4000:]}" for result in failed)
    assert not failed, report
    assert [result.name for result in results] == [gate.name for gate in GATES]


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13"])
def test_sqlite_project_is_green(tmp_path: Path, python: str) -> None:
    interpreter = find_python(python)
    if interpreter is None:
        pytest.skip(f"Python {python} is not installed")
    project = _generate(tmp_path, {"python_version": python})
    _assert_green(project, project_env(python=interpreter))


@pytest.mark.postgres
def test_postgresql_project_is_green(tmp_path: Path, postgres: PostgresServer) -> None:
    project = _generate(tmp_path, {"database": "postgresql", "project_name": "ledger"})
    env = project_env({"DATABASE_URL": postgres.url("ledger")})
    _assert_green(project, env)
