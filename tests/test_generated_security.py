"""Bandit on each database variant of the rendered service: no medium or high findings.

The service's code and its migrations are scanned; its tests are not (asserts and
made-up passwords are what tests are made of).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCANNED = ("src", "alembic")


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bandit_finds_nothing_of_medium_or_high_severity(
    copie: Any, template_dir: Path, database: str
) -> None:
    result = copie.copy(extra_answers={"database": database}, template_dir=template_dir)
    assert result.exit_code == 0, result.exception
    project: Path = result.project_dir

    completed = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", *SCANNED, "-f", "json", "-q"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(completed.stdout)

    assert report["errors"] == []
    scanned = {Path(name).parts[0] for name in report["metrics"] if name != "_totals"}
    assert scanned == set(SCANNED)
    serious = [
        f"{finding['filename']}:{finding['line_number']} {finding['test_id']} "
        f"{finding['issue_severity']}: {finding['issue_text']}"
        for finding in report["results"]
        if finding["issue_severity"] in {"MEDIUM", "HIGH"}
    ]
    assert serious == []
