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


def test_a_git_template_with_uncommitted_changes_is_refused(
    fake_template: MakeTemplate, tmp_path: Path
) -> None:
    """Its work in progress would reach the project under a commit that lacks it."""
    template = fake_template()
    subprocess.run(["git", "init", "-q"], cwd=template, check=True)
    subprocess.run([*GIT, "add", "."], cwd=template, check=True)
    subprocess.run([*GIT, "commit", "-qm", "template"], cwd=template, check=True)
    app_file = template / "template" / "app.py.jinja"
    app_file.write_text(app_file.read_text() + "WIP = True\n")
    target = tmp_path / "svc"
    result = runner.invoke(app, ["new", str(target), "--template", str(template), "--no-git"])
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "has uncommitted changes (template/app.py.jinja)" in message
    assert not target.exists()


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


FORK_COPIER_YML = """\
_subdirectory: template
project_name:
  type: str
  default: demo
  help: Name of the demo
flavour:
  type: str
  help: How hot it is
  choices: [plain, spicy]
  default: plain
database:
  type: str
  help: Where rows live
  choices:
    MySQL: mysql
    MariaDB: mariadb
  default: mysql
"""


def _help(*args: str) -> str:
    result = runner.invoke(app, ["new", *args], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("help_first", [False, True])
def test_help_with_a_template_lists_that_templates_questions_and_choices(
    fake_template: MakeTemplate, help_first: bool
) -> None:
    template = str(fake_template(copier_yml=FORK_COPIER_YML))
    args = ["--help", "--template", template] if help_first else ["-t", template, "--help"]
    output = _help(*args)
    questions = output.split(f"Questions of {template}", 1)[1]
    assert "flavour" in questions
    assert "How hot it is; choices: plain, spicy; default: plain" in questions
    assert "choices: mysql, mariadb" in questions
    assert "python_version" not in questions
    assert "ci " not in questions
    options = output.split("Options:", 1)[1].split("Questions", 1)[0]
    assert "--database mysql|mariadb" in options
    assert "Answers database: Where rows live." in options
    assert "Answers python_version, which this template does not ask." in options
    assert "3.11" not in output


def test_help_without_a_template_describes_apiforges_own() -> None:
    output = _help("--help")
    assert "--python 3.11|3.12|3.13" in output
    assert "--database sqlite|postgresql" in output
    assert "choices: github, gitlab, none" in output


def test_help_with_a_git_url_says_its_questions_are_asked_when_it_renders() -> None:
    output = _help("--template", "https://example.com/fork.git", "--help")
    assert "its questions are asked when it renders" in output
    assert "Answers python_version." in output


def test_a_new_question_in_copier_yml_needs_no_change_in_the_cli(
    fake_template: MakeTemplate,
) -> None:
    """It shows in `new --help`, becomes an axis of verify's matrix, joins the README's
    table and is taken by --data, with no change anywhere but copier.yml."""
    from apiforge.docs import questions_markdown
    from apiforge.matrix import build_matrix
    from apiforge.template import Template

    copier_yml = FORK_COPIER_YML + "docker:\n  type: bool\n  help: Ship a Dockerfile\n"
    template = Template.load(fake_template(copier_yml=copier_yml))
    assert "Ship a Dockerfile; default: none" in _help("-t", str(template.folder), "--help")
    matrix = build_matrix(template.questions, "full", env=template.environment())
    assert "docker" in [axis.name for axis in matrix.axes]
    assert "| `docker` |  | none | Ship a Dockerfile |" in questions_markdown(template.questions)
    assert template.check_answers({"docker": "yes"}) == {"docker": True}
