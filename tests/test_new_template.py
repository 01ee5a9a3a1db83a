"""`apiforge new --template SRC`: another template, recorded in the answers file."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from apiforge.cli import app

runner = CliRunner()

MakeTemplate = Callable[..., Path]
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]


def _answers(project: Path) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((project / ".copier-answers.yml").read_text())
    return loaded


def test_a_local_folder_is_rendered_and_recorded_by_its_absolute_path(
    fake_template: MakeTemplate, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = fake_template()
    monkeypatch.chdir(template.parent)
    target = tmp_path / "svc"
    result = runner.invoke(
        app, ["new", str(target), "--template", template.name, "-d", "flavour=spicy", "--no-git"]
    )
    assert result.exit_code == 0, result.output
    assert (target / "app.py").read_text().startswith('FLAVOUR = "spicy"')
    answers = _answers(target)
    assert answers["_src_path"] == str(template.resolve())
    assert "_commit" not in answers
    assert answers["project_name"] == "svc"
    assert answers["flavour"] == "spicy"


def test_a_git_repository_records_its_tag(fake_template: MakeTemplate, tmp_path: Path) -> None:
    template = fake_template()
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    subprocess.run([*GIT, "add", "."], cwd=template, check=True)
    subprocess.run([*GIT, "commit", "-qm", "template"], cwd=template, check=True)
    subprocess.run([*GIT, "tag", "v1.2.0"], cwd=template, check=True)
    target = tmp_path / "svc"
    result = runner.invoke(app, ["new", str(target), "--template", str(template), "--no-git"])
    assert result.exit_code == 0, result.output
    answers = _answers(target)
    assert answers["_src_path"] == str(template)
    assert answers["_commit"] == "v1.2.0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "database=postgresql"], "valid keys are: ci, flavour, project_name"),
        (["--data", "flavour=sour"], "must be one of plain, spicy"),
        (["--name", "class"], "Python keyword"),
    ],
)
def test_answers_are_checked_against_that_templates_questions(
    fake_template: MakeTemplate, tmp_path: Path, args: list[str], message: str
) -> None:
    template = fake_template()
    result = runner.invoke(app, ["new", str(tmp_path / "svc"), "--template", str(template), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "svc").exists()


def test_a_missing_template_folder_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["new", str(tmp_path / "svc"), "--template", str(tmp_path / "nope")]
    )
    assert result.exit_code == 2
    assert "neither a folder nor a git URL" in result.output
