"""`apiforge check`: versions from the answers file, entries from the changelog, exit codes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from apiforge import __version__
from apiforge.check import check_project, read_changelog
from apiforge.cli import app
from apiforge.errors import UsageError
from apiforge.project import Installed, NotAProjectError, installed_template
from apiforge.template import BUNDLED_SOURCE

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent

CHANGELOG = """\
# Changelog

Intro text that belongs to no version.

## Unreleased

- not released yet

## [v0.4.0] - 2030-01-01

- after the installed version

## 0.3.0

- health checks report the database

## 0.2.0

- docs in the README
- a second line

## 0.1.0

- first release
"""


@pytest.fixture
def installed(tmp_path: Path) -> Installed:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(CHANGELOG, encoding="utf-8")
    return Installed(tmp_path / "template", "0.3.0", changelog)


def _project(root: Path, commit: str = "v0.1.0", src: str = BUNDLED_SOURCE) -> Path:
    project = root / "svc"
    project.mkdir(exist_ok=True)
    (project / ".copier-answers.yml").write_text(
        f"# Written by apiforge.\n_commit: {commit}\n_src_path: {src}\nproject_name: svc\n",
        encoding="utf-8",
    )
    return project


@pytest.fixture
def cli_installed(installed: Installed, monkeypatch: pytest.MonkeyPatch) -> Installed:
    monkeypatch.setattr("apiforge.check.installed_template", lambda: installed)
    return installed


def test_a_project_behind_gets_the_entries_in_between(tmp_path: Path, installed: Installed) -> None:
    result = check_project(_project(tmp_path), installed)
    assert (result.current, result.latest, result.behind) == ("0.1.0", "0.3.0", True)
    assert [entry.version for entry in result.changes] == ["0.3.0", "0.2.0"]
    assert result.changes[1].text == "- docs in the README\n- a second line"


@pytest.mark.parametrize("commit", ["v0.3.0", "0.3.0"])
def test_a_current_project_is_not_behind(tmp_path: Path, installed: Installed, commit: str) -> None:
    result = check_project(_project(tmp_path, commit), installed)
    assert (result.current, result.behind, result.changes) == ("0.3.0", False, [])


def test_the_project_is_found_from_a_folder_inside_it(tmp_path: Path, installed: Installed) -> None:
    inner = _project(tmp_path) / "src" / "api"
    inner.mkdir(parents=True)
    assert check_project(inner, installed).project == tmp_path / "svc"


def test_a_project_newer_than_apiforge_is_a_usage_error(
    tmp_path: Path, installed: Installed
) -> None:
    with pytest.raises(UsageError, match="newer than this apiforge"):
        check_project(_project(tmp_path, "v0.4.0"), installed)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("_commit: [\n", "is broken"),
        ("- a list\n", "is broken"),
        ("_commit: v0.1.0\nproject_name: svc\n", "_src_path"),
        (f"_commit: latest\n_src_path: {BUNDLED_SOURCE}\n", "not a version"),
    ],
)
def test_a_broken_answers_file_is_a_usage_error(
    tmp_path: Path, installed: Installed, text: str, message: str
) -> None:
    project = _project(tmp_path)
    (project / ".copier-answers.yml").write_text(text, encoding="utf-8")
    with pytest.raises(NotAProjectError, match=message):
        check_project(project, installed)


def test_changelog_sections_are_read_by_version(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    path.write_text(CHANGELOG, encoding="utf-8")
    entries = read_changelog(path)
    assert [entry.version for entry in entries] == ["0.4.0", "0.3.0", "0.2.0", "0.1.0"]
    assert entries[0].text == "- after the installed version"


# --- The command line ---------------------------------------------------------


@pytest.mark.usefixtures("cli_installed")
def test_cli_behind_exits_1_with_versions_and_changes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(_project(tmp_path))])
    assert result.exit_code == 1, result.output
    assert "template 0.1.0; 0.3.0 is available" in result.output
    assert "health checks report the database" in result.output
    assert "docs in the README" in result.output
    assert "first release" not in result.output
    assert "after the installed version" not in result.output
    assert "apiforge update" in result.output


@pytest.mark.usefixtures("cli_installed")
def test_cli_current_exits_0(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(_project(tmp_path, "v0.3.0"))])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output


@pytest.mark.usefixtures("cli_installed")
@pytest.mark.parametrize(("commit", "code"), [("v0.1.0", 1), ("v0.3.0", 0)])
def test_cli_json(tmp_path: Path, commit: str, code: int) -> None:
    project = _project(tmp_path, commit)
    result = runner.invoke(app, ["check", "--json", str(project)])
    assert result.exit_code == code, result.output
    report = json.loads(result.stdout)
    assert report["project"] == str(project)
    assert report["source"] == BUNDLED_SOURCE
    assert report["current"] == commit.removeprefix("v")
    assert report["latest"] == "0.3.0"
    assert report["behind"] is (code == 1)
    versions = [change["version"] for change in report["changes"]]
    assert versions == (["0.3.0", "0.2.0"] if code else [])


@pytest.mark.usefixtures("cli_installed")
@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (None, "not an apiforge project"),
        ("_commit: [\n", "is broken"),
        (f"_commit: v9.0.0\n_src_path: {BUNDLED_SOURCE}\n", "newer than this apiforge"),
    ],
)
def test_cli_exits_2_when_it_cannot_tell(tmp_path: Path, answers: str | None, message: str) -> None:
    folder = tmp_path / "svc"
    folder.mkdir()
    if answers is not None:
        (folder / ".copier-answers.yml").write_text(answers, encoding="utf-8")
    for args in (["check", str(folder)], ["check", "--json", str(folder)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stdout == ""


# --- The changelog that ships -----------------------------------------------------


def test_the_changelog_has_an_entry_for_this_version() -> None:
    changelog = installed_template().changelog
    assert changelog is not None
    versions = [entry.version for entry in read_changelog(changelog)]
    assert __version__ in versions
    assert all(entry.text for entry in read_changelog(changelog))


def test_the_changelog_ships_in_the_wheel_beside_the_template() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    included = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert included["CHANGELOG.md"] == "apiforge/_template/CHANGELOG.md"
    assert included["copier.yml"] == "apiforge/_template/copier.yml"
