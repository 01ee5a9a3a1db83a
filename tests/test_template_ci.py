"""The CI files this repository ships to verify its template, for apiforge and its forks.

`.github/workflows/verify-template.yml` and `.gitlab-ci.yml` fan `apiforge verify`
out over shards and gather the JUnit reports. They must match the published schemas,
cover every shard exactly once, appear verbatim in the README, and the GitHub summary
step must read the reports `apiforge verify` writes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from apiforge.gates import Gate
from apiforge.report import junit_xml
from apiforge.verify import VerifyOptions, parse_shard, verify

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / ".github/workflows/verify-template.yml"
GITLAB = ROOT / ".gitlab-ci.yml"


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize(
    ("schema", "path"), [("vendor.github-workflows", GITHUB), ("vendor.gitlab-ci", GITLAB)]
)
def test_the_ci_files_match_their_published_schemas(schema: str, path: Path) -> None:
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def _assert_every_shard_once(shards: list[str]) -> None:
    parsed = [parse_shard(shard) for shard in shards]
    total = len(parsed)
    assert sorted(parsed) == [(index, total) for index in range(1, total + 1)]


def test_github_runs_every_shard_once_strictly() -> None:
    job = _load(GITHUB)["jobs"]["verify"]
    _assert_every_shard_once(job["strategy"]["matrix"]["shard"])
    (command,) = [step["run"] for step in job["steps"] if "apiforge verify" in step.get("run", "")]
    assert "--shard ${{ matrix.shard }}" in command
    assert "--strict" in command
    assert "--report verify.xml" in command


def test_gitlab_runs_every_shard_once_strictly() -> None:
    job = _load(GITLAB)["verify"]
    (entry,) = job["parallel"]["matrix"]
    _assert_every_shard_once(entry["SHARD"])
    (command,) = [line for line in job["script"] if "apiforge verify" in line]
    assert '--shard "$SHARD"' in command
    assert "--strict" in command
    assert job["artifacts"]["reports"]["junit"] == "verify.xml"


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_the_readme_shows_the_shipped_files(path: Path) -> None:
    assert path.read_text(encoding="utf-8") in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_github_summary_lists_every_combination_of_every_shard(
    fake_template: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The spicy flavour fails its gate; the fake template refuses spicy with gitlab.
    template = fake_template()
    gate = Gate("tests", ((sys.executable, "-c", "import app; assert app.FLAVOUR == 'plain'"),))
    monkeypatch.setattr("apiforge.gates.GATES", (gate,))
    for index in (1, 2):
        result = verify(VerifyOptions(template=str(template), matrix="full", shard=(index, 2)))
        report = tmp_path / f"verify-{index}" / "verify.xml"
        report.parent.mkdir()
        report.write_text(junit_xml(result), encoding="utf-8")
    steps = _load(GITHUB)["jobs"]["report"]["steps"]
    (script,) = [step["run"] for step in steps if "GITHUB_STEP_SUMMARY" in step.get("run", "")]
    summary = tmp_path / "summary.md"

    completed = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env={**os.environ, "GITHUB_STEP_SUMMARY": str(summary)},
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    rows = sorted(summary.read_text().splitlines()[2:])
    assert [row.split(" | ")[-1] for row in rows] == [
        "passed |",
        "passed |",
        "failed |",
        "skipped |",
    ]
    assert all(row.startswith(f"| c0{n} ") for n, row in enumerate(rows, start=1))
