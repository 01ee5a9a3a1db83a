"""The CLI through Typer's runner: exit codes, messages, and what is left on disk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from apiforge import __version__
from apiforge._help import TOP_LEVEL_HELP
from apiforge.cli import app

runner = CliRunner()


def _entries(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_help_lists_the_commands() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "new" in result.output


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"apiforge {__version__}"


def test_help_does_not_import_copier_or_jinja() -> None:
    code = (
        "import sys\n"
        "from apiforge.cli import app\n"
        "commands = [[], ['new'], ['update'], ['check'], ['verify'], ['add'], ['add', 'resource']]"
        "\n"
        "for command in commands:\n"
        "    try:\n        app([*command, '--help'])\n    except SystemExit:\n        pass\n"
        "print(sorted(m for m in ('copier', 'jinja2', 'rich') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"


def _run_python(code: str, columns: str | None) -> tuple[str, list[str]]:
    """Run *code* in a fresh interpreter with COLUMNS set (or unset); return what it printed
    and the CLI modules it imported."""
    code += (
        "\nimport sys\n"
        "print(sorted(m for m in ('typer', 'click', 'apiforge.cli') if m in sys.modules))"
    )
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    if columns is not None:
        env["COLUMNS"] = columns
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    *output, imported = result.stdout.splitlines(keepends=True)
    return "".join(output), yaml.safe_load(imported)


def _entry_point(argv: list[str], columns: str | None) -> tuple[str, list[str]]:
    """The console script's `main`, run as *argv*."""
    return _run_python(
        f"import sys\nsys.argv = {argv!r}\nfrom apiforge.__main__ import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass",
        columns,
    )


def _typer(option: str, columns: str | None) -> str:
    """What Typer itself prints for `apiforge OPTION` on a terminal *columns* wide."""
    output, _ = _run_python(
        "from apiforge.cli import app\n"
        f"try:\n    app([{option!r}], prog_name='apiforge')\nexcept SystemExit:\n    pass",
        columns,
    )
    return output


@pytest.mark.parametrize("option", ["--help", "-h", "--version"])
def test_help_and_version_answer_without_importing_the_cli(option: str) -> None:
    output, imported = _entry_point(["apiforge", option], columns="120")

    assert imported == []
    assert output == _typer(option, "120")


@pytest.mark.parametrize("columns", ["80", "200", None], ids=["80", "200", "not-a-terminal"])
def test_the_fast_help_is_typers_help_at_80_columns_or_more(columns: str | None) -> None:
    # When this fails, paste the new `apiforge --help` into src/apiforge/_help.py.
    assert _typer("--help", columns) == TOP_LEVEL_HELP


def test_narrow_terminals_and_python_m_get_typers_own_help() -> None:
    narrow, imported = _entry_point(["apiforge", "--help"], columns="60")
    assert "typer" in imported
    assert narrow == _typer("--help", "60")
    assert narrow != TOP_LEVEL_HELP

    module, imported = _entry_point(["/x/apiforge/__main__.py", "--help"], columns="120")
    assert "typer" in imported
    assert module.startswith("Usage: __main__.py")


def test_new_with_defaults_creates_a_committed_project(tmp_path: Path) -> None:
    target = tmp_path / "svc"
    result = runner.invoke(app, ["new", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "uv run pytest" in result.output
    answers = yaml.safe_load((target / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "svc"
    assert answers["database"] == "sqlite"
    assert answers["_commit"] == f"v{__version__}"
    log = subprocess.run(
        ["git", "log", "--oneline", "--all"], cwd=target, capture_output=True, text=True, check=True
    )
    assert len(log.stdout.splitlines()) == 1
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=target, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""
    # Nothing is left beside the project.
    assert _entries(tmp_path) == ["svc"]


def test_env_holds_a_random_secret_and_is_not_committed(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    for target in (first, second):
        assert runner.invoke(app, ["new", str(target), "-y"]).exit_code == 0

    def secret(project: Path) -> str:
        for line in (project / ".env").read_text().splitlines():
            if line.startswith("SECRET_KEY="):
                return line.removeprefix("SECRET_KEY=")
        raise AssertionError("no SECRET_KEY in .env")

    assert len(secret(first)) >= 32
    assert secret(first) != secret(second)
    assert secret(first) not in (first / ".env.example").read_text()
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=first, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert ".env.example" in tracked
    assert ".env" not in tracked


def test_data_and_shortcuts_set_answers(tmp_path: Path) -> None:
    target = tmp_path / "svc"
    result = runner.invoke(
        app,
        [
            "new",
            str(target),
            "--data",
            "description=Billing for everyone",
            "--python",
            "3.12",
            "--name",
            "billing",
            "--no-git",
        ],
    )
    assert result.exit_code == 0, result.output
    answers = yaml.safe_load((target / ".copier-answers.yml").read_text())
    assert answers["project_name"] == "billing"
    assert answers["description"] == "Billing for everyone"
    assert answers["python_version"] == "3.12"
    assert not (target / ".git").exists()


def test_data_file_sets_answers_and_data_overrides_it(tmp_path: Path) -> None:
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text("description: From a file\npython_version: '3.13'\n")
    target = tmp_path / "svc"
    result = runner.invoke(
        app,
        ["new", str(target), "--data-file", str(answers_file), "-d", "python_version=3.12"],
    )
    assert result.exit_code == 0, result.output
    answers = yaml.safe_load((target / ".copier-answers.yml").read_text())
    assert answers["description"] == "From a file"
    assert answers["python_version"] == "3.12"


def test_dry_run_lists_files_and_writes_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["new", str(tmp_path / "svc"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "main.py" in result.output
    assert "nothing was written" in result.output
    assert _entries(tmp_path) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["new", "{tmp}/9lives"], "starts with a digit"),
        (["new", "{tmp}/class"], "Python keyword"),
        (["new", "{tmp}/src"], "reserved"),
        (["new", "{tmp}/svc", "--name", "bad name"], "not valid"),
        (["new", "{tmp}/svc", "--data", "colour=red"], "valid keys are"),
        (["new", "{tmp}/svc", "--data", "novalue"], "KEY=VALUE"),
        (["new", "{tmp}/svc", "--database", "mysql"], "one of sqlite, postgresql"),
        (["new", "{tmp}/svc", "--python", "3.9"], "one of 3.11, 3.12, 3.13"),
        (["new", "{tmp}/svc", "--data-file", "{tmp}/missing.yml"], "Cannot read"),
    ],
)
def test_bad_input_is_a_one_line_usage_error(tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, [arg.format(tmp=tmp_path) for arg in args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert _entries(tmp_path) == []


def test_non_empty_target_is_refused_and_untouched(tmp_path: Path) -> None:
    target = tmp_path / "svc"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    result = runner.invoke(app, ["new", str(target), "-y"])
    assert result.exit_code == 2
    assert "not empty" in result.output
    assert _entries(target) == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "mine"


def test_existing_file_as_target_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "svc"
    target.write_text("mine")
    result = runner.invoke(app, ["new", str(target), "-y"])
    assert result.exit_code == 2
    assert target.read_text() == "mine"


def test_empty_target_folder_is_used(tmp_path: Path) -> None:
    target = tmp_path / "svc"
    target.mkdir()
    result = runner.invoke(app, ["new", str(target), "-y", "--no-git"])
    assert result.exit_code == 0, result.output
    assert (target / "pyproject.toml").is_file()


def test_a_failure_after_rendering_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge import new as new_module
    from apiforge.git import GitError

    def broken_git(project: Path) -> None:
        raise GitError("git commit failed: simulated")

    monkeypatch.setattr(new_module, "init_git", broken_git)
    result = runner.invoke(app, ["new", str(tmp_path / "deep" / "svc"), "-y"])
    assert result.exit_code == 1
    assert "simulated" in result.output
    assert _entries(tmp_path) == []


def test_ctrl_c_while_rendering_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge.render import render_template as real_render

    def interrupted(*args: object, **kwargs: object) -> None:
        real_render(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr("apiforge.new.render_template", interrupted)
    result = runner.invoke(app, ["new", str(tmp_path / "svc"), "-y"])
    assert result.exit_code == 130
    assert "nothing was written" in result.output
    assert _entries(tmp_path) == []


def test_verbose_shows_the_traceback(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--verbose", "new", str(tmp_path / "9x"), "-y"])
    assert result.exit_code == 2
    assert "Traceback" in result.output
