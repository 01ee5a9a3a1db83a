"""`apiforge update`: an older template version, a team's edits, and the merge.

Most tests build two versions of a small template in the test: 0.1.0, which
generates the project, and 0.2.0, which the project is updated to. The team's
edits touch every case the update has a rule for.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from helpers import SMALL_COPIER_YML, everything, git, write_files
from typer.testing import CliRunner

from apiforge import update as update_module
from apiforge.check import check_project
from apiforge.cli import app
from apiforge.errors import Interrupted, UsageError
from apiforge.new import init_git
from apiforge.project import TEMPLATE_BRANCH, Installed, NotAProjectError, parse_version
from apiforge.update import (
    Outcome,
    UpdateConflict,
    UpdateOptions,
    UpdateResult,
    render_installed,
    undo_update,
    update_project,
)

pytestmark = pytest.mark.usefixtures("git_identity")

runner = CliRunner()


ANSWERS_TEMPLATE = "# Written by apiforge.\n{{ _copier_answers|to_nice_yaml -}}\n"


def _lines(name: str, changed: dict[int, str] | None = None) -> str:
    lines = [f"{name} line {number}" for number in range(1, 11)]
    for number, text in (changed or {}).items():
        lines[number - 1] = text
    return "\n".join(lines) + "\n"


OLD_FILES = {
    "copier.yml": SMALL_COPIER_YML,
    "template/{{_copier_conf.answers_file}}.jinja": ANSWERS_TEMPLATE,
    "template/.gitignore": ".env\n",
    "template/README.md.jinja": "# {{ project_name }}\n\nA demo service.\n",
    "template/config.py.jinja": 'DATABASE = "{{ database }}"\n',
    "template/app.py": _lines("app"),
    "template/service.py": _lines("service"),
    "template/settings.toml": "debug = false\n",
    "template/old.py": "OLD = 1\n",
    "template/legacy.py": "LEGACY = 1\n",
}

NEW_FILES = {
    **{
        key: value for key, value in OLD_FILES.items() if not key.endswith(("/old.py", "legacy.py"))
    },
    "template/README.md.jinja": "# {{ project_name }}\n\nA demo service, with docs.\n",
    "template/app.py": _lines("app", {3: "app line 3, improved by the template"}),
    "template/service.py": _lines("service", {1: "service line 1, improved by the template"}),
    "template/settings.toml": "debug = false\nworkers = 2\n",
    "template/new_module.py": "NEW = 2\n",
}

CLEAN_OUTCOMES = {
    ".copier-answers.yml": Outcome.UPDATED,
    ".gitignore": Outcome.UNCHANGED,
    "README.md": Outcome.UPDATED,
    "app.py": Outcome.UPDATED,
    "config.py": Outcome.UNCHANGED,
    "legacy.py": Outcome.KEPT_YOURS,
    "new_module.py": Outcome.ADDED,
    "old.py": Outcome.REMOVED,
    "service.py": Outcome.MERGED,
    "settings.toml": Outcome.KEPT_DELETED,
}


# --- Helpers ---------------------------------------------------------------


@pytest.fixture
def old(tmp_path: Path) -> Installed:
    return Installed(write_files(tmp_path / "template-0.1.0", OLD_FILES), "0.1.0")


@pytest.fixture
def new(tmp_path: Path) -> Installed:
    changelog = tmp_path / "CHANGELOG.md"
    changelog.write_text(
        "# Changelog\n\n## 0.2.0\n\nDocs in the README; new_module.py.\n\n"
        "## 0.1.0\n\nFirst release.\n",
        encoding="utf-8",
    )
    folder = write_files(tmp_path / "template-0.2.0", NEW_FILES)
    return Installed(folder, "v0.2.0", changelog)


def _generate(root: Path, installed: Installed) -> Path:
    """A project as `apiforge new` of version *installed* made it."""
    project = root / "demo"
    render_installed(installed, project, {"project_name": "demo"})
    init_git(project)
    (project / ".env").write_text("SECRET_KEY=kept-out-of-git\n")
    return project


def _team_edits(project: Path, *, overlapping: bool) -> None:
    """What a team does with a project between updates; then it commits."""
    service = project / "service.py"
    service.write_text(_lines("service", {10: "service line 10, the team's"}))
    (project / "legacy.py").write_text("LEGACY = 2  # the team relies on this\n")
    (project / "settings.toml").unlink()
    (project / "mine.py").write_text("MINE = True\n")
    if overlapping:
        (project / "app.py").write_text(_lines("app", {3: "app line 3, the team's"}))
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team work")


@pytest.fixture
def project(tmp_path: Path, old: Installed) -> Path:
    project = _generate(tmp_path, old)
    _team_edits(project, overlapping=False)
    return project


@pytest.fixture
def conflicted(tmp_path: Path, old: Installed) -> Path:
    project = _generate(tmp_path, old)
    _team_edits(project, overlapping=True)
    return project


def _update(project: Path, installed: Installed, **options: object) -> UpdateResult:
    return update_project(UpdateOptions(project=project, installed=installed, **options))  # type: ignore[arg-type]


def _state(project: Path) -> tuple[str, str, dict[str, bytes]]:
    """HEAD, every ref, and every file outside .git (ignored ones included)."""
    refs = git(project, "for-each-ref", "--format=%(refname) %(objectname)")
    files = {
        path.relative_to(project).as_posix(): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(project).parts[:1]
    }
    return git(project, "rev-parse", "HEAD"), refs, files


def _outcomes(result: UpdateResult) -> dict[str, Outcome]:
    return {change.path: change.outcome for change in result.files}


# --- The update ------------------------------------------------------------


def test_update_applies_the_template_and_keeps_every_edit(project: Path, new: Installed) -> None:
    before = git(project, "rev-parse", "HEAD").strip()
    result = _update(project, new)

    assert result.committed
    assert (result.current, result.target) == ("0.1.0", "0.2.0")
    assert _outcomes(result) == CLEAN_OUTCOMES
    # Template changes to files the team left alone are applied.
    assert (project / "README.md").read_text() == "# demo\n\nA demo service, with docs.\n"
    assert "improved by the template" in (project / "app.py").read_text()
    assert (project / "new_module.py").read_text() == "NEW = 2\n"
    assert not (project / "old.py").exists()
    # Both sides of a cleanly merged file are there.
    service = (project / "service.py").read_text()
    assert "service line 1, improved by the template" in service
    assert "service line 10, the team's" in service
    # The team's changes, deletions and files are kept; .env is untouched.
    assert (project / "legacy.py").read_text() == "LEGACY = 2  # the team relies on this\n"
    assert not (project / "settings.toml").exists()
    assert (project / "mine.py").read_text() == "MINE = True\n"
    assert (project / ".env").read_text() == "SECRET_KEY=kept-out-of-git\n"
    # One merge commit on top of the team's work; a clean tree, no .rej files.
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0"
    assert git(project, "rev-parse", "HEAD^1").strip() == before
    assert (
        git(project, "rev-parse", "HEAD^2").strip()
        == git(project, "rev-parse", TEMPLATE_BRANCH).strip()
    )
    assert git(project, "status", "--porcelain") == ""
    assert not list(project.rglob("*.rej"))
    assert git(project, "log", "-1", "--format=%s", TEMPLATE_BRANCH).strip() == (
        "apiforge template 0.2.0"
    )


def test_overlapping_edit_is_a_conflict_and_nothing_is_lost(
    conflicted: Path, new: Installed
) -> None:
    with pytest.raises(UpdateConflict) as caught:
        _update(conflicted, new)

    assert caught.value.exit_code == 1
    assert caught.value.files == ["app.py"]
    assert "git merge --abort" in str(caught.value)
    assert "apiforge update --undo" in str(caught.value)
    assert _outcomes(caught.value.result) == {**CLEAN_OUTCOMES, "app.py": Outcome.CONFLICT}
    app_py = (conflicted / "app.py").read_text()
    assert "<<<<<<<" in app_py
    assert ">>>>>>>" in app_py
    assert "app line 3, the team's" in app_py
    assert "app line 3, improved by the template" in app_py
    # Only the real conflict is left to the team; the rest is merged and staged.
    assert git(conflicted, "diff", "--name-only", "--diff-filter=U").split() == ["app.py"]
    assert not (conflicted / "settings.toml").exists()
    assert (conflicted / "legacy.py").read_text().startswith("LEGACY = 2")
    assert (conflicted / "new_module.py").is_file()
    assert not list(conflicted.rglob("*.rej"))


def test_git_merge_abort_undoes_a_conflicted_update(conflicted: Path, new: Installed) -> None:
    head, _refs, files = _state(conflicted)
    with pytest.raises(UpdateConflict):
        _update(conflicted, new)
    git(conflicted, "merge", "--abort")
    after_head, _refs, after_files = _state(conflicted)
    assert (after_head, after_files) == (head, files)


def test_after_git_merge_abort_the_next_update_merges_everything_again(
    conflicted: Path, new: Installed
) -> None:
    with pytest.raises(UpdateConflict) as first:
        _update(conflicted, new)
    git(conflicted, "merge", "--abort")

    preview = _update(conflicted, new, preview=True)
    assert preview.conflicts == first.value.result.conflicts
    assert _outcomes(preview) == _outcomes(first.value.result)
    with pytest.raises(UpdateConflict) as second:
        _update(conflicted, new)
    assert _outcomes(second.value.result) == _outcomes(first.value.result)
    assert second.value.result.findings.notes == [
        "The last update's merge was aborted; apiforge/template is back where it was."
    ]


def test_second_update_changes_nothing(project: Path, new: Installed) -> None:
    _update(project, new)
    state = _state(project)
    result = _update(project, new)
    assert result.up_to_date
    assert not result.committed
    assert _state(project) == state


def test_update_on_the_same_version_without_changes_is_a_no_op(
    project: Path, old: Installed
) -> None:
    state = _state(project)
    assert _update(project, old).up_to_date
    assert _state(project) == state


@pytest.mark.parametrize("edit", ["modified", "staged"])
def test_dirty_tree_is_refused_and_left_unchanged(project: Path, new: Installed, edit: str) -> None:
    if edit == "modified":
        (project / "app.py").write_text("work in progress\n")
    else:
        (project / "mine.py").write_text("MINE = False\n")
        git(project, "add", "mine.py")
    state = _state(project)
    with pytest.raises(UsageError, match="uncommitted changes"):
        _update(project, new)
    assert _state(project) == state


def test_ignored_files_do_not_make_the_tree_dirty(project: Path, new: Installed) -> None:
    (project / ".env").write_text("SECRET_KEY=changed\n")
    assert _update(project, new).committed
    assert (project / ".env").read_text() == "SECRET_KEY=changed\n"


def test_undo_restores_exactly_after_a_clean_update(project: Path, new: Installed) -> None:
    state = _state(project)
    _update(project, new)
    assert _state(project) != state
    undone = undo_update(project)
    assert undone.head == state[0].strip()
    assert _state(project) == state
    with pytest.raises(UsageError, match="no update to undo"):
        undo_update(project)


def test_undo_restores_exactly_after_a_conflict(conflicted: Path, new: Installed) -> None:
    state = _state(conflicted)
    with pytest.raises(UpdateConflict):
        _update(conflicted, new)
    undo_update(conflicted / "app.py")  # any path inside the project
    assert _state(conflicted) == state
    assert git(conflicted, "status", "--porcelain") == ""


def test_undo_refuses_when_commits_were_made_after_the_update(
    project: Path, new: Installed
) -> None:
    _update(project, new)
    (project / "mine.py").write_text("MINE = 2\n")
    git(project, "commit", "--quiet", "-am", "More work")
    head = git(project, "rev-parse", "HEAD")
    with pytest.raises(UsageError, match="has moved"):
        undo_update(project)
    assert git(project, "rev-parse", "HEAD") == head


def test_preview_lists_every_file_and_writes_nothing(conflicted: Path, new: Installed) -> None:
    before = everything(conflicted)
    result = _update(conflicted, new, preview=True)
    assert result.preview
    assert _outcomes(result) == {**CLEAN_OUTCOMES, "app.py": Outcome.CONFLICT}
    assert result.conflicts == ["app.py"]
    assert everything(conflicted) == before


def test_preview_of_a_current_project_says_so(project: Path, new: Installed) -> None:
    _update(project, new)
    before = everything(project)
    assert _update(project, new, preview=True).up_to_date
    assert everything(project) == before


def test_interrupted_merge_leaves_the_project_as_it_was(
    project: Path, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_merge = update_module._merge

    def merge_then_ctrl_c(repo: object, message: str) -> bool:
        real_merge(repo, message)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(update_module, "_merge", merge_then_ctrl_c)
    state = _state(project)
    with pytest.raises(Interrupted, match="left as it was"):
        _update(project, new)
    assert _state(project) == state
    assert git(project, "status", "--porcelain") == ""


def test_interrupted_render_changes_nothing(
    project: Path, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    def ctrl_c(*_args: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr(update_module, "_render", ctrl_c)
    state = _state(project)
    with pytest.raises(Interrupted):
        _update(project, new)
    assert _state(project) == state


def test_data_changes_an_answer_as_part_of_the_update(project: Path, old: Installed) -> None:
    result = _update(project, old, data={"database": "postgresql"})
    assert result.committed
    assert _outcomes(result)["config.py"] == Outcome.UPDATED
    assert (project / "config.py").read_text() == 'DATABASE = "postgresql"\n'
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["database"] == "postgresql"
    assert answers["_commit"] == "v0.1.0"
    # The new answer is recorded, so the next update keeps it.
    assert _update(project, old).up_to_date


@pytest.mark.parametrize(
    ("data", "message"),
    [({"colour": "red"}, "valid keys are"), ({"database": "mysql"}, "one of sqlite")],
)
def test_bad_data_is_refused(
    project: Path, new: Installed, data: dict[str, str], message: str
) -> None:
    state = _state(project)
    with pytest.raises(UsageError, match=message):
        _update(project, new, data=data)
    assert _state(project) == state


# --- Refusals ----------------------------------------------------------------


def test_a_folder_without_answers_is_not_a_project(tmp_path: Path, new: Installed) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(NotAProjectError, match=r"not an apiforge project"):
        _update(tmp_path / "plain", new)


def test_broken_answers_file_is_refused(project: Path, new: Installed) -> None:
    (project / ".copier-answers.yml").write_text("_commit: [\n")
    git(project, "commit", "--quiet", "-am", "Break it")
    with pytest.raises(NotAProjectError, match="is broken"):
        _update(project, new)


def test_a_project_without_git_is_refused(project: Path, new: Installed) -> None:
    shutil.rmtree(project / ".git")
    with pytest.raises(NotAProjectError, match="not a git repository"):
        _update(project, new)


def test_a_project_newer_than_apiforge_is_refused(project: Path, old: Installed) -> None:
    newer = Installed(old.folder, "0.0.9")
    state = _state(project)
    with pytest.raises(UsageError, match=r"newer than this apiforge \(0\.0\.9\)"):
        _update(project, newer)
    assert _state(project) == state


def test_untracked_files_the_merge_does_not_touch_do_not_block_it(
    project: Path, new: Installed
) -> None:
    (project / "notes.txt").write_text("draft\n")
    result = _update(project, new)
    assert result.committed
    assert (project / "notes.txt").read_text() == "draft\n"
    assert git(project, "status", "--porcelain") == "?? notes.txt\n"


def test_an_untracked_file_the_template_adds_is_refused_by_name(
    project: Path, new: Installed
) -> None:
    (project / "new_module.py").write_text("MINE = 1\n")
    state = _state(project)
    with pytest.raises(UsageError, match=r"The template now adds new_module\.py"):
        _update(project, new)
    assert _state(project) == state


def test_a_missing_template_branch_points_to_adopt(project: Path, new: Installed) -> None:
    git(project, "branch", "--quiet", "-D", TEMPLATE_BRANCH)
    state = _state(project)
    with pytest.raises(UsageError, match=r"apiforge update --adopt"):
        _update(project, new)
    assert _state(project) == state


def test_a_fresh_clone_updates_from_the_pushed_template_branch_and_says_so(
    project: Path, new: Installed, tmp_path: Path
) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "--quiet", str(project), str(clone))
    preview = _update(clone, new, preview=True)
    assert preview.findings.notes == [
        "The branch apiforge/template would be created from origin/apiforge/template."
    ]
    assert git(clone, "branch", "--list", TEMPLATE_BRANCH) == ""

    result = _update(clone, new)

    assert result.committed
    assert result.findings.notes == [
        "Created the branch apiforge/template from origin/apiforge/template."
    ]
    assert _outcomes(result) == CLEAN_OUTCOMES


def test_a_shallow_clone_is_told_to_fetch_the_history(
    project: Path, new: Installed, tmp_path: Path
) -> None:
    git(project, "commit", "--quiet", "--allow-empty", "-m", "Later work")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "--quiet", "--depth", "1", f"file://{project}", str(clone))
    git(clone, "fetch", "--quiet", "--depth", "1", "origin", f"{TEMPLATE_BRANCH}:{TEMPLATE_BRANCH}")
    state = _state(clone)
    with pytest.raises(UsageError, match="git fetch --unshallow"):
        _update(clone, new)
    assert _state(clone) == state


def test_the_template_branch_itself_is_not_updated(project: Path, new: Installed) -> None:
    git(project, "switch", "--quiet", TEMPLATE_BRANCH)
    with pytest.raises(UsageError, match="check out your own branch"):
        _update(project, new)


@pytest.mark.parametrize("text", ["0.2.0", "v0.2.0", "V0.2.0"])
def test_versions_are_read_with_or_without_a_leading_v(text: str) -> None:
    assert str(parse_version(text)) == "0.2.0"


def test_a_version_that_is_not_one_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="not a version"):
        parse_version("latest")


# --- Other templates ----------------------------------------------------------


def test_a_project_of_another_template_updates_to_its_newest_tag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge.render import render_template
    from apiforge.template import TemplateSource

    source = write_files(tmp_path / "their-template", OLD_FILES)
    git(source, "init", "--quiet", "--initial-branch=main")
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", "v1")
    git(source, "tag", "v1.0.0")
    project = tmp_path / "demo"
    render_template(TemplateSource(str(source)), project, data={}, defaults=True)
    init_git(project)
    _team_edits(project, overlapping=False)
    assert check_project(project).behind is False

    shutil.rmtree(source / "template")
    write_files(source, NEW_FILES)
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", "v2")
    git(source, "tag", "v1.1.0")
    # Work in progress in the fork never reaches the project.
    (source / "template" / "app.py").write_text("WIP\n")
    state = _state(project)
    with pytest.raises(UsageError, match="has uncommitted changes"):
        update_project(UpdateOptions(project=project))
    assert _state(project) == state
    git(source, "checkout", "--", "template/app.py")
    checked = check_project(project)
    assert (checked.current, checked.latest, checked.behind) == ("1.0.0", "1.1.0", True)

    result = update_project(UpdateOptions(project=project))
    assert (result.current, result.target) == ("1.0.0", "1.1.0")
    assert _outcomes(result) == CLEAN_OUTCOMES
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v1.1.0"
    assert check_project(project).behind is False


# --- check before and after --------------------------------------------------


def test_check_says_behind_before_and_current_after(project: Path, new: Installed) -> None:
    before = check_project(project, new)
    assert (before.current, before.latest, before.behind) == ("0.1.0", "0.2.0", True)
    assert [entry.version for entry in before.changes] == ["0.2.0"]
    _update(project, new)
    after = check_project(project, new)
    assert (after.current, after.behind, after.changes) == ("0.2.0", False, [])


# --- The command line ---------------------------------------------------------


@pytest.fixture
def installed_is_new(new: Installed, monkeypatch: pytest.MonkeyPatch) -> Installed:
    """Pretend the installed apiforge is 0.2.0 with the new template."""
    monkeypatch.setattr(update_module, "installed_template", lambda: new)
    monkeypatch.setattr("apiforge.check.installed_template", lambda: new)
    return new


@pytest.mark.usefixtures("installed_is_new")
def test_cli_update_then_check(project: Path) -> None:
    behind = runner.invoke(app, ["check", str(project)])
    assert behind.exit_code == 1, behind.output
    assert "0.1.0" in behind.output
    assert "0.2.0 is available" in behind.output
    assert "Docs in the README" in behind.output

    result = runner.invoke(app, ["update", str(project)])
    assert result.exit_code == 0, result.output
    assert "new_module.py" in result.output
    assert "kept deleted" in result.output
    assert "kept yours" in result.output
    assert f"Undo with: apiforge update --undo {project}" in result.output

    current = runner.invoke(app, ["check", str(project)])
    assert current.exit_code == 0, current.output
    assert "up to date" in current.output

    again = runner.invoke(app, ["update", str(project)])
    assert again.exit_code == 0
    assert "already up to date" in again.output


@pytest.mark.usefixtures("installed_is_new")
def test_cli_conflict_exits_1_with_the_files(conflicted: Path) -> None:
    result = runner.invoke(app, ["update", str(conflicted)])
    assert result.exit_code == 1
    assert "error: Conflicts in 1 file: app.py" in result.stderr
    assert "git merge --abort" in result.stderr
    assert "conflict" in result.stdout

    undone = runner.invoke(app, ["update", "--undo", str(conflicted)])
    assert undone.exit_code == 0, undone.output
    assert "Restored" in undone.output
    assert git(conflicted, "status", "--porcelain") == ""


@pytest.mark.usefixtures("installed_is_new")
def test_cli_preview_lists_and_writes_nothing(conflicted: Path) -> None:
    before = everything(conflicted)
    result = runner.invoke(app, ["update", "--preview", str(conflicted)])
    assert result.exit_code == 0, result.output
    for path in CLEAN_OUTCOMES:
        assert path in result.output
    assert "nothing was written" in result.output
    assert everything(conflicted) == before


@pytest.mark.usefixtures("installed_is_new")
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["update", "{tmp}"], "not an apiforge project"),
        (["update", "{project}", "--data", "colour=red"], "valid keys are"),
        (["update", "{project}", "--data", "novalue"], "KEY=VALUE"),
        (["update", "{project}", "--undo", "--preview"], "--undo takes no other options"),
        (["update", "{project}", "--undo"], "no update to undo"),
        (["update", "{dirty}"], "uncommitted changes"),
    ],
)
def test_cli_refusals_are_one_line_usage_errors(
    project: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    (project / "app.py").write_text("draft\n")
    dirty = project
    clean = tmp_path / "clean"
    shutil.copytree(project, clean)
    git(clean, "checkout", "--", "app.py")
    empty = tmp_path / "empty"
    empty.mkdir()
    values = {"tmp": str(empty), "project": str(clean), "dirty": str(dirty)}
    result = runner.invoke(app, [arg.format(**values) for arg in args])
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


# --- The real template ----------------------------------------------------------


def test_a_fresh_project_of_the_real_template_is_up_to_date(tmp_path: Path) -> None:
    """`update` renders exactly what `new` rendered, so a fresh project has nothing to take."""
    from apiforge.new import NewOptions, create_project

    project = create_project(NewOptions(target=tmp_path / "svc")).path
    state = _state(project)
    result = update_project(UpdateOptions(project=project))
    assert result.up_to_date
    assert _state(project) == state
    assert check_project(project).behind is False


def test_a_clean_update_of_the_real_template_keeps_the_teams_files(
    tmp_path: Path, newer_template: Callable[[Callable[[Path], None]], Installed]
) -> None:
    """(That the project's gates pass after updating to a real release is in
    test_lifecycle.py.)"""
    from apiforge.new import NewOptions, create_project

    project = create_project(NewOptions(target=tmp_path / "svc")).path
    tests = project / "tests" / "test_team.py"
    tests.write_text("def test_team_code() -> None:\n    assert True\n")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Team test")

    def edit(template: Path) -> None:
        logging = template / "src" / "core" / "logging.py"
        docstring, rest = logging.read_text().split("\n", 1)
        logging.write_text(f"{docstring}\n# Changed in the next template version.\n{rest}")
        upgrading = template / "UPGRADING.md"
        upgrading.write_text("# Upgrading\n\nRun `apiforge update`.\n")

    next_version = newer_template(edit)

    result = update_project(
        UpdateOptions(project=project, installed=next_version, check_drift=False)
    )
    assert result.committed
    outcomes = _outcomes(result)
    assert outcomes["UPGRADING.md"] == Outcome.ADDED
    assert outcomes["src/core/logging.py"] == Outcome.UPDATED
    assert tests.is_file()
    assert git(project, "status", "--porcelain") == ""


def test_an_ignored_file_the_template_now_adds_is_not_overwritten(
    project: Path, new: Installed
) -> None:
    with (project / ".gitignore").open("a") as ignore:
        ignore.write("new_module.py\n")
    git(project, "commit", "--quiet", "-am", "Ignore a local file")
    (project / "new_module.py").write_text("LOCAL = True\n")
    state = _state(project)
    with pytest.raises(UsageError, match=r"now adds new_module\.py"):
        _update(project, new)
    assert _state(project) == state


def test_undo_after_the_team_resolved_and_committed_the_conflict(
    conflicted: Path, new: Installed
) -> None:
    state = _state(conflicted)
    with pytest.raises(UpdateConflict):
        _update(conflicted, new)
    (conflicted / "app.py").write_text(_lines("app", {3: "app line 3, resolved"}))
    git(conflicted, "add", "app.py")
    git(conflicted, "commit", "--quiet", "--no-edit")
    undo_update(conflicted)
    assert _state(conflicted) == state


def test_preview_leaves_uncommitted_changes_out_and_alone(conflicted: Path, new: Installed) -> None:
    (conflicted / "mine.py").write_text("MINE = 'work in progress'\n")
    before = everything(conflicted)
    result = _update(conflicted, new, preview=True)
    assert result.uncommitted
    assert _outcomes(result)["app.py"] == Outcome.CONFLICT
    assert everything(conflicted) == before


def test_a_failing_merge_is_rolled_back(
    project: Path, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge.git import GitError

    def failing_merge(repo: object, message: str) -> bool:
        raise GitError("git merge failed: simulated")

    monkeypatch.setattr(update_module, "_merge", failing_merge)
    state = _state(project)
    with pytest.raises(GitError, match="simulated"):
        _update(project, new)
    assert _state(project) == state


# --- Projects made with --no-git --------------------------------------------------------


def _generate_without_git(root: Path, installed: Installed) -> Path:
    project = root / "demo"
    render_installed(installed, project, {"project_name": "demo"})
    return project


def test_a_project_made_without_git_is_told_how_to_become_updatable(
    tmp_path: Path, old: Installed
) -> None:
    project = _generate_without_git(tmp_path, old)
    result = runner.invoke(app, ["update", str(project)])
    assert result.exit_code == 2
    assert "apiforge update --adopt" in " ".join(result.stderr.split())


def test_adopt_then_update_merges_the_template_and_keeps_the_teams_edits(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    project = _generate_without_git(tmp_path, old)
    git(project, "init", "--quiet", "--initial-branch=main")
    (project / "service.py").write_text(_lines("service", {10: "service line 10, the team's"}))
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Start")
    files = _state(project)[2]

    adopted = update_module.adopt_project(project, installed=old)

    assert adopted.version == "0.1.0"
    assert _state(project)[2] == files  # adopting changes no file
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", TEMPLATE_BRANCH).strip() in git(
        project, "rev-list", "--parents", "-1", "HEAD"
    )
    result = _update(project, new)
    assert result.committed
    outcomes = _outcomes(result)
    assert outcomes["service.py"] == Outcome.MERGED
    assert outcomes["app.py"] == Outcome.UPDATED
    service = (project / "service.py").read_text()
    assert "service line 1, improved by the template" in service
    assert "service line 10, the team's" in service


def test_adopt_refuses_a_project_on_another_version_and_one_with_a_template_branch(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    project = _generate(tmp_path, old)
    with pytest.raises(UsageError, match="has the branch apiforge/template already"):
        update_module.adopt_project(project, installed=old)
    git(project, "branch", "-D", TEMPLATE_BRANCH)
    before = everything(project)
    with pytest.raises(UsageError, match=r"uvx apiforge@0\.1\.0 update --adopt"):
        update_module.adopt_project(project, installed=new)
    assert everything(project) == before


def test_cli_adopt(tmp_path: Path, old: Installed, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _generate_without_git(tmp_path, old)
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "Start")
    monkeypatch.setattr("apiforge.update.installed_template", lambda: old)
    result = runner.invoke(app, ["update", "--adopt", str(project)])
    assert result.exit_code == 0, result.output
    assert "Adopted demo" in result.output
    again = runner.invoke(app, ["update", "--adopt", str(project)])
    assert again.exit_code == 2
    assert "already" in again.stderr


# --- Undo that says what it undoes ----------------------------------------------------------


def test_undo_during_a_conflict_refuses_to_discard_unrelated_work(
    conflicted: Path, new: Installed
) -> None:
    with pytest.raises(UpdateConflict):
        _update(conflicted, new)
    (conflicted / "mine.py").write_text("MINE = 'edited during the merge'\n")
    (conflicted / "fresh.py").write_text("FRESH = 1\n")
    git(conflicted, "add", "fresh.py")
    before = everything(conflicted)

    with pytest.raises(UsageError, match=r"not part of the update \((fresh|mine)\.py and 1 more\)"):
        undo_update(conflicted)

    assert everything(conflicted) == before


def test_undo_during_a_conflict_discards_only_the_merge(conflicted: Path, new: Installed) -> None:
    start = git(conflicted, "rev-parse", "HEAD")
    with pytest.raises(UpdateConflict):
        _update(conflicted, new)
    (conflicted / "app.py").write_text("resolved by hand\n")  # part of the merge
    (conflicted / "notes.txt").write_text("untracked, kept\n")

    undone = update_module.plan_undo(conflicted)
    assert undone.what.startswith("Update to apiforge template 0.2.0")
    assert undone.what.endswith("(not committed yet)")
    undo_update(conflicted)

    assert git(conflicted, "rev-parse", "HEAD") == start
    assert (conflicted / "notes.txt").read_text() == "untracked, kept\n"


def test_undo_names_the_update_it_undoes(project: Path, new: Installed) -> None:
    _update(project, new)
    (project / "notes.txt").write_text("untracked files do not block undo\n")
    result = runner.invoke(app, ["update", "--undo", str(project)])
    assert result.exit_code == 0, result.output
    assert "Undoing: Update to apiforge template 0.2.0 (from 0.1.0)" in result.output


def test_check_during_a_conflicted_update_reports_the_committed_state(
    conflicted: Path, new: Installed, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(UpdateConflict):
        _update(conflicted, new)
    assert check_project(conflicted, installed=new).update_in_progress

    monkeypatch.setattr("apiforge.check.installed_template", lambda: new)
    result = runner.invoke(app, ["check", str(conflicted)])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "An update is in progress" in output
    assert "behind: template 0.1.0; 0.2.0 is available" in output
    data = json.loads(runner.invoke(app, ["check", "--json", str(conflicted)]).output)
    assert data["update_in_progress"] is True
    assert data["current"] == "0.1.0"


def test_switching_to_postgresql_says_to_set_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apiforge.new import NewOptions, create_project

    monkeypatch.delenv("DATABASE_URL", raising=False)
    project = create_project(NewOptions(target=tmp_path / "svc")).path
    result = update_project(
        UpdateOptions(project=project, data={"database": "postgresql"}, check_drift=False)
    )
    assert result.committed
    assert "DATABASE_URL" in result.findings.settings.missing
    assert any(step.startswith("set DATABASE_URL") for step in result.findings.next_steps)
    assert "uv sync" in result.findings.next_steps


# --- Renames ----------------------------------------------------------------------------


@pytest.mark.parametrize("overlapping", [False, True])
def test_a_file_the_team_renamed_is_reported_where_it_is_now(
    project: Path, new: Installed, overlapping: bool
) -> None:
    git(project, "mv", "app.py", "application.py")
    if overlapping:
        (project / "application.py").write_text(_lines("app", {3: "app line 3, the team's"}))
        git(project, "add", "application.py")
    git(project, "commit", "--quiet", "-m", "Rename app.py")

    if not overlapping:
        result = _update(project, new)
        assert _outcomes(result)["application.py"] == Outcome.MERGED
        assert "app.py" not in _outcomes(result)
        assert "improved by the template" in (project / "application.py").read_text()
        return
    with pytest.raises(UpdateConflict) as caught:
        _update(project, new)
    assert caught.value.result.conflicts == ["application.py"]
    assert "Conflicts in 1 file: application.py." in str(caught.value)
    assert "UU application.py" in git(project, "status", "--porcelain")


# --- Forks' versions --------------------------------------------------------------------


def _fork(tmp_path: Path, *, tag: str | None) -> tuple[Path, Path]:
    """A fork of the small template under git (tagged *tag*), and a project made from it."""
    from apiforge.render import render_template
    from apiforge.template import TemplateSource

    source = write_files(tmp_path / "fork", OLD_FILES)
    git(source, "init", "--quiet", "--initial-branch=main")
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", "v1")
    if tag is not None:
        git(source, "tag", "-a", tag, "-m", tag)
    project = tmp_path / "demo"
    render_template(TemplateSource(str(source)), project, data={}, defaults=True)
    init_git(project)
    return source, project


def test_an_untagged_fork_is_versioned_by_its_commits(tmp_path: Path) -> None:
    source, project = _fork(tmp_path, tag=None)
    checked = check_project(project)
    assert checked.behind is False
    assert checked.notes == [f"{source} has no release tags; its versions are its commits."]
    checked_cli = runner.invoke(app, ["check", str(project)])
    assert checked_cli.exit_code == 0, checked_cli.output

    write_files(source, {"template/app.py": _lines("app", {1: "app line 1, newer"})})
    git(source, "commit", "--quiet", "-am", "newer")
    checked = check_project(project)
    assert checked.behind is True
    assert git(source, "rev-parse", "HEAD").startswith(checked.latest)
    assert runner.invoke(app, ["check", str(project)]).exit_code == 1

    result = update_project(UpdateOptions(project=project, check_drift=False))
    assert result.committed
    assert check_project(project).behind is False


def test_a_forks_newest_release_its_changelog_and_later_commits(tmp_path: Path) -> None:
    source, project = _fork(tmp_path, tag="v1.0.0")
    write_files(
        source,
        {
            "template/app.py": _lines("app", {1: "app line 1, newer"}),
            "CHANGELOG.md": "# Changes\n\n## 1.1.0\n\nA newer app.\n\n## 1.0.0\n\nFirst.\n",
        },
    )
    git(source, "add", "--all")
    git(source, "commit", "--quiet", "-m", "v1.1.0")
    git(source, "tag", "-a", "v1.1.0", "-m", "v1.1.0")
    git(source, "commit", "--quiet", "--allow-empty", "-m", "work after the release")

    checked = check_project(project)

    assert (checked.current, checked.latest, checked.behind) == ("1.0.0", "1.1.0", True)
    assert [entry.version for entry in checked.changes] == ["1.1.0"]
    assert checked.notes == [
        f"{source} has commits after its newest release v1.1.0; updates take v1.1.0."
    ]
    data = json.loads(runner.invoke(app, ["check", "--json", str(project)]).output)
    assert (data["current"], data["latest"]) == ("1.0.0", "1.1.0")
    assert data["changes"] == [{"version": "1.1.0", "text": "A newer app."}]


# --- Monorepos ------------------------------------------------------------------------------


def _monorepo(tmp_path: Path) -> Path:
    """A repository with a service of its own team and one commit."""
    monorepo = tmp_path / "monorepo"
    write_files(monorepo, {"web/app.js": "console.log('web')\n", "README.md": "# Monorepo\n"})
    git(monorepo, "init", "--quiet", "--initial-branch=main")
    git(monorepo, "add", "--all")
    git(monorepo, "commit", "--quiet", "-m", "Monorepo")
    return monorepo


def _service(tmp_path: Path, installed: Installed) -> tuple[Path, Path]:
    """A monorepo and a service of *installed* in its folder services/api, as
    `apiforge new` makes it there."""
    from apiforge.update import start_in_repository

    monorepo = _monorepo(tmp_path)
    service = monorepo / "services" / "api"
    render_installed(installed, service, {"project_name": "api"})
    start_in_repository(service, "Generate api")
    return monorepo, service


def test_a_service_in_a_monorepo_updates_keeps_the_rest_and_undoes(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    monorepo, service = _service(tmp_path, old)
    assert git(monorepo, "status", "--porcelain") == ""
    assert "apiforge/template@services/api" in git(monorepo, "branch", "--list")
    _team_edits(service, overlapping=False)
    start = git(monorepo, "rev-parse", "HEAD")
    (monorepo / "web" / "app.js").write_text("console.log('work in progress')\n")

    result = _update(service, new)

    assert result.committed
    assert _outcomes(result) == CLEAN_OUTCOMES
    assert (monorepo / "web" / "app.js").read_text() == "console.log('work in progress')\n"
    assert "improved by the template" in (service / "app.py").read_text()
    assert check_project(service, installed=new).behind is False
    (monorepo / "README.md").write_text("# Staged elsewhere\n")
    git(monorepo, "add", "README.md")
    with pytest.raises(UsageError, match="uncommitted changes"):
        _update(service, new)
    git(monorepo, "reset", "--quiet", "--", "README.md")
    git(monorepo, "checkout", "--", "README.md", "web/app.js")
    undo_update(service)
    assert git(monorepo, "rev-parse", "HEAD") == start


@pytest.mark.parametrize("at", ["template", "merge", "settle"])
def test_a_failed_update_in_a_monorepo_keeps_work_outside_the_service(
    tmp_path: Path, old: Installed, new: Installed, at: str
) -> None:
    monorepo, service = _service(tmp_path, old)
    (service / "notes.txt").write_text("untracked, kept\n")
    (monorepo / "web" / "app.js").write_text("console.log('work in progress')\n")
    before = git(monorepo, "rev-parse", "HEAD"), git(monorepo, "for-each-ref")

    def ctrl_c(step: str) -> None:
        if step == at:
            raise KeyboardInterrupt

    with pytest.raises(Interrupted, match="left as it was"):
        update_project(UpdateOptions(project=service, installed=new), progress=ctrl_c)

    assert (git(monorepo, "rev-parse", "HEAD"), git(monorepo, "for-each-ref")) == before
    assert (monorepo / "web" / "app.js").read_text() == "console.log('work in progress')\n"
    assert (service / "notes.txt").read_text() == "untracked, kept\n"
    assert git(monorepo, "status", "--porcelain") == (" M web/app.js\n?? services/api/notes.txt\n")


def test_adopt_gives_a_service_added_by_hand_its_template_branch(
    tmp_path: Path, old: Installed, new: Installed
) -> None:
    monorepo = _monorepo(tmp_path)
    service = monorepo / "services" / "api"
    render_installed(old, service, {"project_name": "api"})
    git(monorepo, "add", "--all")
    git(monorepo, "commit", "--quiet", "-m", "Copy the api service in")

    update_module.adopt_project(service, installed=old)

    assert "apiforge/template@services/api" in git(monorepo, "branch", "--list")
    assert _update(service, new).committed


def test_new_in_a_monorepo_commits_the_service_with_its_own_template_branch(
    tmp_path: Path,
) -> None:
    monorepo = _monorepo(tmp_path)
    (monorepo / "notes.txt").write_text("untracked, left alone\n")
    before = git(monorepo, "rev-parse", "HEAD").strip()

    result = runner.invoke(app, ["new", str(monorepo / "services" / "api"), "--yes"])

    assert result.exit_code == 0, result.output
    assert "apiforge/template@services/api" in " ".join(result.output.split())
    service = monorepo / "services" / "api"
    assert not (service / ".git").exists()
    assert git(monorepo, "status", "--porcelain") == "?? notes.txt\n"
    parents = git(monorepo, "rev-list", "--parents", "-1", "HEAD").split()[1:]
    assert parents[0] == before
    assert parents[1] == git(monorepo, "rev-parse", "apiforge/template@services/api").strip()
    assert "web/app.js" in git(monorepo, "ls-files")
    assert not check_project(service).behind
    assert update_project(UpdateOptions(project=service)).up_to_date


def test_a_project_kept_as_a_submodule_of_a_monorepo_updates(
    project: Path, new: Installed, tmp_path: Path
) -> None:
    monorepo = tmp_path / "monorepo"
    monorepo.mkdir()
    git(monorepo, "init", "--quiet", "--initial-branch=main")
    git(monorepo, "-c", "protocol.file.allow=always", "submodule", "add", "--quiet",
        str(project), "services/api")  # fmt: skip
    git(monorepo, "commit", "--quiet", "-m", "Add the api service")
    service = monorepo / "services" / "api"

    result = _update(service, new)

    assert result.committed
    assert result.findings.notes == [
        "Created the branch apiforge/template from origin/apiforge/template."
    ]
    assert _outcomes(result) == CLEAN_OUTCOMES
