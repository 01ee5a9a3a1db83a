"""Static security checks on the rendered service: Bandit, and no credential in any file.

Bandit scans the service's code and migrations; not its tests, where asserts and made-up
passwords belong.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import render

SCANNED = ("src", "alembic")

# `NAME=value` or `NAME: value` for a setting that holds a secret, in env files, compose and
# CI files. Python code is left to the project's own lint (ruff's S105-S107, the same checks
# as Bandit's), which refuses hard-coded passwords outside the tests.
SECRET_SETTING = re.compile(
    r"^\s*(?:export\s+)?([A-Z0-9_]*(?:SECRET|PASSWORD|TOKEN|API_KEY)[A-Z0-9_]*)\s*[=:]\s*(.*)$"
)
# Credentials inside a URL: scheme://user:password@host
URL_PASSWORD = re.compile(r"://[^\s:/@]+:([^\s@]+)@")


def _is_placeholder(value: str) -> bool:
    """Empty, taken from the environment, or a placeholder the service refuses."""
    value = value.strip().strip("\"'")
    return value in {"", "PASSWORD"} or value.startswith(("${", "$(", "change-me"))


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_bandit_finds_nothing_of_medium_or_high_severity(
    copie: Any, template_dir: Path, database: str
) -> None:
    project = render(copie, template_dir, {"database": database})

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


@pytest.mark.parametrize(
    "answers",
    [{"database": "sqlite", "ci": "gitlab"}, {"database": "postgresql", "ci": "github"}],
    ids=["sqlite-gitlab", "postgresql-github"],
)
def test_no_credential_in_any_rendered_file(
    copie: Any, template_dir: Path, answers: dict[str, Any]
) -> None:
    project = render(copie, template_dir, answers)

    found = []
    for path in sorted(project.rglob("*")):
        if not path.is_file():
            continue
        name = path.relative_to(project).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            values = URL_PASSWORD.findall(line)
            if path.suffix != ".py" and (setting := SECRET_SETTING.match(line)):
                values.append(setting.group(2))
            found += [f"{name}:{number}: {line.strip()}" for v in values if not _is_placeholder(v)]
    assert found == []
