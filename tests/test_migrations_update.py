"""Updates that change the migrations or the dependencies, on small templates made here.

The real template's whole lifecycle (previous release, resources, rows, gates on
both databases) is in test_lifecycle.py; these tests pin each rule on its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from helpers import SMALL_COPIER_YML, commit, git, write_files
from typer.testing import CliRunner

from apiforge.cli import app
from apiforge.errors import Interrupted, UsageError
from apiforge.lifecycle import env_variables
from apiforge.migrations import merge_revision_text, migration_head, read_migrations
from apiforge.new import init_git
from apiforge.project import Installed
from apiforge.tools import find_uv
from apiforge.update import (
    UpdateBroken,
    UpdateConflict,
    UpdateOptions,
    render_installed,
    undo_update,
    update_project,
)

pytestmark = pytest.mark.usefixtures("git_identity")

runner = CliRunner()


def migration(revision: str, down: str | None, body: str = "pass") -> str:
    down_text = "None" if down is None else f'"{down}"'
    return (
        f'"""Revision {revision}."""\n\n'
        f'revision = "{revision}"\n'
        f"down_revision = {down_text}\n\n\n"
        f"def upgrade() -> None:\n    {body}\n"
    )


BASE = {
    "copier.yml": SMALL_COPIER_YML,
    "template/{{_copier_conf.answers_file}}.jinja": "{{ _copier_answers|to_nice_yaml -}}\n",
    "template/.gitignore": ".env\n",
    "template/.env.example": "SECRET_KEY=change-me\n# LOG_LEVEL=INFO\n",
    "template/alembic/versions/0001_initial.py": migration("0001", None),
}


def generate(root: Path, installed: Installed) -> Path:
    project = root / "demo"
    render_installed(installed, project, {"project_name": "demo"})
    init_git(project)
    return project


def update(project: Path, installed: Installed) -> object:
    return update_project(UpdateOptions(project=project, installed=installed))


@pytest.fixture
def old(tmp_path: Path) -> Installed:
    return Installed(write_files(tmp_path / "old", BASE), "0.1.0")


@pytest.fixture
def new(tmp_path: Path) -> Installed:
    files = {
        **BASE,
        "template/alembic/versions/0002_more.py": migration("0002", "0001"),
        "template/.env.example": "SECRET_KEY=change-me\nAPI_TOKEN=\n# RATE_LIMIT=10\n",
    }
    return Installed(write_files(tmp_path / "new", files), "0.2.0")


# --- Migration heads ------------------------------------------------------------------


def test_a_release_migration_and_the_teams_own_end_in_one_head(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    project = generate(tmp_path, old)
    commit(project, {"alembic/versions/a1b2c3d4e5f6_orders.py": migration("a1b2c3d4e5f6", "0001")})

    result = update_project(UpdateOptions(project=project, installed=new))

    assert result.committed
    findings = result.findings
    assert findings.joined_heads == ["0002", "a1b2c3d4e5f6"]
    assert findings.merge_revision is not None
    merge = project / findings.merge_revision
    assert merge.is_file()
    assert read_migrations(project).heads == findings.heads
    assert len(findings.heads) == 1
    assert migration_head(project) == findings.heads[0]
    assert findings.problems == []
    # The merge revision is part of the one merge commit, nothing is left uncommitted.
    assert git(project, "status", "--porcelain") == ""
    assert findings.merge_revision in git(project, "show", "--name-only", "--format=", "HEAD")
    assert len(git(project, "rev-list", "--parents", "-1", "HEAD").split()) == 3
    # The template's own migration arrived untouched, so later updates merge it cleanly.
    assert (project / "alembic/versions/0002_more.py").read_text() == migration("0002", "0001")


def test_a_project_without_migrations_of_its_own_gets_no_merge_revision(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    project = generate(tmp_path, old)
    result = update_project(UpdateOptions(project=project, installed=new))
    assert result.findings.merge_revision is None
    assert result.findings.heads == ["0002"]


def test_the_next_release_joins_again_and_undo_removes_the_merge_revision(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    project = generate(tmp_path, old)
    commit(project, {"alembic/versions/aaaaaaaaaaaa_orders.py": migration("aaaaaaaaaaaa", "0001")})
    first = update_project(UpdateOptions(project=project, installed=new))
    third = Installed(
        write_files(
            tmp_path / "third",
            {
                **BASE,
                "template/alembic/versions/0002_more.py": migration("0002", "0001"),
                "template/alembic/versions/0003_most.py": migration("0003", "0002"),
            },
        ),
        "0.3.0",
    )
    before = git(project, "rev-parse", "HEAD")

    second = update_project(UpdateOptions(project=project, installed=third))

    assert second.findings.merge_revision not in {None, first.findings.merge_revision}
    assert "0003" in second.findings.joined_heads
    assert len(read_migrations(project).heads) == 1
    result = runner.invoke(app, ["update", "--undo", "--yes", str(project)])
    assert result.exit_code == 0, result.output
    assert git(project, "rev-parse", "HEAD") == before
    assert not (project / str(second.findings.merge_revision)).exists()


def test_a_revision_id_the_team_shares_with_the_release_is_reported_and_undoable(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    project = generate(tmp_path, old)
    commit(project, {"alembic/versions/0002_orders.py": migration("0002", "0001", "print()")})
    before = git(project, "rev-parse", "HEAD")

    with pytest.raises(UpdateBroken) as caught:
        update_project(UpdateOptions(project=project, installed=new))

    message = str(caught.value)
    assert "Two migrations have the revision 0002" in message
    assert "0002_more.py" in message
    assert "0002_orders.py" in message
    assert "apiforge update --undo" in message
    assert "\n" not in message
    undone = runner.invoke(app, ["update", "--undo", "--yes", str(project)])
    assert undone.exit_code == 0, undone.output
    assert git(project, "rev-parse", "HEAD") == before


def test_the_cli_reports_the_joined_heads_and_what_to_run_next(
    tmp_path: Path, old: Installed, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = generate(tmp_path, old)
    commit(project, {"alembic/versions/bbbbbbbbbbbb_orders.py": migration("bbbbbbbbbbbb", "0001")})
    monkeypatch.setattr("apiforge.update.installed_template", lambda: new)
    monkeypatch.delenv("API_TOKEN", raising=False)

    result = runner.invoke(app, ["update", str(project)])

    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "joined the heads 0002, bbbbbbbbbbbb with alembic/versions/" in output
    assert "Settings added by the template: API_TOKEN, RATE_LIMIT." in output
    assert "Next steps:" in output
    assert "set API_TOKEN in .env" in output
    assert "uv run alembic upgrade head" in output


def test_the_cli_exits_1_when_the_result_is_broken(
    tmp_path: Path, old: Installed, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = generate(tmp_path, old)
    commit(project, {"alembic/versions/0002_orders.py": migration("0002", "0001")})
    monkeypatch.setattr("apiforge.update.installed_template", lambda: new)

    result = runner.invoke(app, ["update", str(project)])

    assert result.exit_code == 1
    assert "Two migrations have the revision 0002" in " ".join(result.stderr.split())


@pytest.mark.parametrize(
    ("heads", "expected"),
    [
        (["a", "b"], 'down_revision: str | Sequence[str] | None = ("a", "b")'),
        (
            [f"{n:012x}" for n in range(6)],
            'down_revision: str | Sequence[str] | None = (\n    "000000000000",\n',
        ),
    ],
)
def test_merge_revisions_are_written_as_ruff_formats_them(heads: list[str], expected: str) -> None:
    text = merge_revision_text("ffffffffffff", heads, "Why.")
    assert expected in text
    compile(text, "merge.py", "exec")
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--line-length", "100", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    assert formatted.stdout == text


def test_a_missing_down_revision_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    write_files(tmp_path, {"alembic/versions/a.py": migration("a", "gone")})
    graph = read_migrations(tmp_path)
    assert graph.problem() == (
        "the migrations name gone as down_revision, but no file in alembic/versions defines it"
    )
    with pytest.raises(UsageError, match="gone as down_revision"):
        migration_head(tmp_path)


def test_env_example_lines_say_which_settings_are_required() -> None:
    text = "# A comment.\nSECRET_KEY=x\n# LOG_LEVEL=INFO\nDATABASE_URL=\n#   PORT=8000\nlower=1\n"
    assert env_variables(text) == {
        "SECRET_KEY": True,
        "LOG_LEVEL": False,
        "DATABASE_URL": True,
        "PORT": False,
    }


# --- Lock files --------------------------------------------------------------------------

PYPROJECT = """\
[project]
name = "demo"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
{dependencies}]
"""


def uv(folder: Path, *args: str) -> None:
    subprocess.run(
        [find_uv(), *args, "--quiet"],
        cwd=folder,
        check=True,
        capture_output=True,
        env={**_clean_env(), "UV_PYTHON_DOWNLOADS": "never"},
    )


def _clean_env() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }


def locked_template(folder: Path, *dependencies: str) -> Installed:
    listed = "".join(f'    "{dependency}",\n' for dependency in dependencies)
    files = {**BASE, "template/pyproject.toml": PYPROJECT.format(dependencies=listed)}
    write_files(folder, files)
    uv(folder / "template", "lock")
    shutil.rmtree(folder / "template" / ".venv", ignore_errors=True)
    return Installed(folder, "0.1.0")


def test_a_lock_both_sides_changed_is_locked_again_not_merged(tmp_path: Path) -> None:
    """The team added a dependency with `uv add`; the release added another and shipped
    its lock. Both end up in one consistent lock, with no conflict."""
    old = locked_template(tmp_path / "old", "packaging>=24", "pluggy>=1.5")
    project = generate(tmp_path, old)
    uv(project, "add", "iniconfig>=2")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "uv add iniconfig")
    team_lock = (project / "uv.lock").read_text()
    new = locked_template(tmp_path / "new", "packaging>=24", "pluggy>=1.5", "pygments>=2.15")
    new = Installed(new.folder, "0.2.0")

    result = update_project(UpdateOptions(project=project, installed=new))

    assert result.committed, result.conflicts
    assert result.findings.lock is not None
    assert result.findings.lock.regenerated, result.findings.lock.problem
    lock = (project / "uv.lock").read_text()
    assert "<<<<<<<" not in lock
    assert 'name = "iniconfig"' in lock
    assert 'name = "pygments"' in lock
    # The team's pinned version of its own dependency is kept.
    team_version = team_lock.split('name = "iniconfig"\nversion = "', 1)[1].split('"', 1)[0]
    assert f'name = "iniconfig"\nversion = "{team_version}"' in lock
    uv(project, "lock", "--locked")  # the lock matches the merged pyproject.toml
    assert git(project, "status", "--porcelain") == ""
    assert "uv sync" in result.findings.next_steps


def test_a_conflict_in_pyproject_leaves_the_lock_to_uv_not_to_the_team(tmp_path: Path) -> None:
    old = locked_template(tmp_path / "old", "packaging>=24")
    project = generate(tmp_path, old)
    uv(project, "add", "pygments>=2.15")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "uv add pygments")
    new = locked_template(tmp_path / "new", "packaging>=24", "pluggy>=1.5")

    with pytest.raises(UpdateConflict) as caught:
        update_project(UpdateOptions(project=project, installed=Installed(new.folder, "0.2.0")))

    result = caught.value.result
    assert result.conflicts == ["pyproject.toml"]
    assert "<<<<<<<" not in (project / "uv.lock").read_text()
    assert any("run `uv lock`" in step for step in result.findings.next_steps)


def test_ctrl_c_while_checking_says_the_merge_was_made_and_undo_restores(
    tmp_path: Path, old: Installed, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = generate(tmp_path, old)
    before = git(project, "rev-parse", "HEAD")

    def ctrl_c(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("apiforge.update.inspect", ctrl_c)
    with pytest.raises(Interrupted, match="the update is merged") as caught:
        update_project(UpdateOptions(project=project, installed=new))
    assert "apiforge update --undo" in str(caught.value)
    assert git(project, "rev-parse", "HEAD") != before
    assert git(project, "status", "--porcelain") == ""
    undo_update(project)
    assert git(project, "rev-parse", "HEAD") == before


def test_preview_shows_the_heads_it_would_join_and_writes_nothing(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    project = generate(tmp_path, old)
    commit(project, {"alembic/versions/cccccccccccc_orders.py": migration("cccccccccccc", "0001")})
    state = git(project, "for-each-ref"), git(project, "rev-parse", "HEAD")
    files = sorted(str(path) for path in project.rglob("*") if ".git" not in path.parts)

    result = update_project(UpdateOptions(project=project, installed=new, preview=True))

    assert result.preview
    assert result.findings.joined_heads == ["0002", "cccccccccccc"]
    assert len(result.findings.heads) == 1
    assert (git(project, "for-each-ref"), git(project, "rev-parse", "HEAD")) == state
    assert sorted(str(path) for path in project.rglob("*") if ".git" not in path.parts) == files


def test_a_setting_that_becomes_required_is_a_next_step_unless_set(
    tmp_path: Path, old: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {**BASE, "template/.env.example": "SECRET_KEY=change-me\nLOG_LEVEL=INFO\n"}
    required = Installed(write_files(tmp_path / "required", files), "0.2.0")
    project = generate(tmp_path, old)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    result = update_project(UpdateOptions(project=project, installed=required, preview=True))
    assert result.findings.settings.added == []
    assert result.findings.settings.missing == ["LOG_LEVEL"]
    assert "set LOG_LEVEL in .env (see .env.example)" in result.findings.next_steps

    (project / ".env").write_text("SECRET_KEY=x\nLOG_LEVEL=DEBUG\n")
    result = update_project(UpdateOptions(project=project, installed=required, preview=True))
    assert result.findings.settings.missing == []


@pytest.mark.parametrize("at", ["check", "render", "template", "merge", "settle", "inspect"])
def test_ctrl_c_at_each_step_reports_what_is_true(
    tmp_path: Path, old: Installed, new: Installed, at: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    project = generate(tmp_path, old)
    commit(project, {"alembic/versions/dddddddddddd_orders.py": migration("dddddddddddd", "0001")})
    before = git(project, "for-each-ref"), git(project, "rev-parse", "HEAD")

    def progress(step: str) -> None:
        if step == at:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted) as caught:
        update_project(UpdateOptions(project=project, installed=new), progress=progress)

    message = str(caught.value)
    if "merged" in message:
        assert at == "inspect"
        assert git(project, "rev-parse", "HEAD") != before[1]
        undo_update(project)
    else:
        assert message == "Interrupted; the project was left as it was."
    assert (git(project, "for-each-ref"), git(project, "rev-parse", "HEAD")) == before
    assert git(project, "status", "--porcelain") == ""
    assert list(scratch.iterdir()) == []


def test_ctrl_c_just_after_the_merge_commit_says_it_was_merged(
    tmp_path: Path, old: Installed, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge import update as update_module

    project = generate(tmp_path, old)
    before = git(project, "rev-parse", "HEAD")
    real_apply = update_module._apply

    def apply_then_ctrl_c(*args: object, **kwargs: object) -> object:
        real_apply(*args, **kwargs)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(update_module, "_apply", apply_then_ctrl_c)
    with pytest.raises(Interrupted, match="after the update was merged"):
        update_project(UpdateOptions(project=project, installed=new))
    assert git(project, "rev-parse", "HEAD") != before
    undo_update(project)
    assert git(project, "rev-parse", "HEAD") == before
