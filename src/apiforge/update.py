"""`apiforge update`: bring a project to the installed template, keeping every edit.

A project made by `apiforge new` keeps the pristine render of its template on the
branch `apiforge/template`. An update renders the template again with the
recorded answers, commits that render onto the template branch, and merges the
branch into the current one. Git does the three-way merge between the old
render, the team's work and the new render, so conflicts are ordinary git
conflicts: markers in files, resolved with any git tool, undone with
`git merge --abort`. Nothing here needs the network.

On top of git's merge:

* a file the team deleted stays deleted, even when the template changed it;
* a file the template removed is removed, unless the team changed it, and then
  the team's file is kept;
* before anything changes, the previous positions of the current branch and of
  the template branch are recorded under ``refs/apiforge/``, so
  :func:`undo_update` (`apiforge update --undo`) restores them exactly.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from apiforge.errors import ApiforgeError, ConflictError, Interrupted, UsageError, UserError
from apiforge.git import Git, GitError
from apiforge.lifecycle import LOCK_FILE, Findings, inspect, settle
from apiforge.migrations import MIGRATIONS, read_migrations
from apiforge.progress import Progress
from apiforge.project import (
    Installed,
    NotAProjectError,
    Project,
    ProjectGit,
    find_project,
    installed_template,
    load_answers,
    parse_version,
    read_project,
    version_text,
)
from apiforge.render import record_bundled_source, render_template
from apiforge.template import TemplateSource, staged_template

__all__ = [
    "UNDO_COMMAND",
    "AdoptResult",
    "FileChange",
    "Outcome",
    "UndoResult",
    "UpdateBroken",
    "UpdateConflict",
    "UpdateOptions",
    "UpdateResult",
    "adopt_project",
    "plan_undo",
    "render_installed",
    "start_in_repository",
    "undo_update",
    "update_project",
]

UNDO_COMMAND = "apiforge update --undo"


class Outcome(StrEnum):
    """What an update does to one file of the template."""

    ADDED = "added"
    """New in the template; added."""
    UPDATED = "updated"
    """Changed by the template, untouched by the team; updated."""
    MERGED = "merged"
    """Changed by both; git merged the changes cleanly."""
    REMOVED = "removed"
    """Removed by the template, untouched by the team; removed."""
    CONFLICT = "conflict"
    """Changed by both in the same lines; left with conflict markers."""
    KEPT_DELETED = "kept-deleted"
    """Deleted by the team, changed by the template; stays deleted."""
    KEPT_YOURS = "kept-yours"
    """Removed by the template, changed by the team; the team's file is kept."""
    UNCHANGED = "unchanged"
    """Not changed by the template."""


@dataclass(frozen=True)
class FileChange:
    path: str
    outcome: Outcome


@dataclass
class UpdateOptions:
    """What `apiforge update` was asked to do."""

    project: Path = field(default_factory=Path)
    data: Mapping[str, Any] = field(default_factory=dict)
    """Answers to change, as given (``KEY=VALUE`` strings already split)."""
    preview: bool = False
    installed: Installed | None = None
    """The template to update bundled projects to; the one shipped with apiforge by default."""
    managed: Mapping[str, Any] = field(default_factory=dict)
    """Answers apiforge manages itself (see `MANAGED_ANSWERS`), already checked by their
    command; they are set as given."""
    message: str | None = None
    """What the commits say; by default the template version and the changed answers."""
    check_drift: bool = True
    """After merging, run the migrations on a scratch database and `alembic check`."""
    command: str = "apiforge update"
    """The command to run again once a refusal (uncommitted changes) is dealt with."""


@dataclass
class UpdateResult:
    """What an update did, or with ``preview`` would do."""

    project: Path
    current: str
    """The template version the project was on."""
    target: str
    """The template version it is updated to."""
    files: list[FileChange]
    preview: bool = False
    up_to_date: bool = False
    """Nothing to do: the project already has everything the template would bring."""
    committed: bool = False
    """A merge commit was made on the current branch."""
    uncommitted: bool = False
    """(Preview only) the work tree has changes the preview leaves out."""
    findings: Findings = field(default_factory=Findings)
    """What the update did beyond git's merge (lock file, migration heads) and found."""

    def having(self, *outcomes: Outcome) -> list[str]:
        return [change.path for change in self.files if change.outcome in outcomes]

    @property
    def conflicts(self) -> list[str]:
        return self.having(Outcome.CONFLICT)


class UpdateConflict(ConflictError):
    """The merge left conflicts; the result says what happened to every file."""

    def __init__(self, result: UpdateResult) -> None:
        files = result.conflicts
        shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
        super().__init__(
            f"Conflicts in {len(files)} file{'s' if len(files) != 1 else ''}: {shown}. "
            "Resolve them and `git commit`, or go back with `git merge --abort` "
            f"(or `{UNDO_COMMAND}`).",
            files,
        )
        self.result = result


class UpdateBroken(UserError):
    """The update was merged, but the result is known to be broken."""

    def __init__(self, result: UpdateResult) -> None:
        problems = "; ".join(result.findings.problems)
        super().__init__(
            f"The update was merged, but {problems}. Fix it and commit, "
            f"or go back with `{UNDO_COMMAND}`."
        )
        self.result = result


@dataclass(frozen=True)
class UndoResult:
    project: Path
    head: str
    """The commit the current branch is back on."""
    what: str = ""
    """What is (or was) undone: the update's commit message, e.g. "Add the product
    resource (apiforge add resource)"."""
    earlier: bool = False
    """The last update changed nothing, so this undo takes back the one before it."""
    removed_migrations: tuple[str, ...] = ()
    """Migration files the undo takes away, relative to the project."""
    downgrade_to: str | None = None
    """The migration head before the update: a database that ran the removed migrations
    must be downgraded to it first (``alembic downgrade <it>``)."""


# --- Rendering -------------------------------------------------------------


def render_installed(installed: Installed, dest: Path, answers: Mapping[str, Any]) -> None:
    """Render *installed* into *dest* as a project of apiforge's bundled template.

    The answers file records the template repository and ``v<version>``, exactly as
    `apiforge new` writes it, so an unchanged template renders an identical tree.
    """
    with staged_template(installed.folder) as staged:
        render_template(TemplateSource(str(staged)), dest, data=answers, defaults=True)
    record_bundled_source(dest, version_text(installed.version))


@dataclass
class _Plan:
    """Everything decided before the project's git history is touched."""

    current: str
    target: str
    changed_answers: dict[str, Any]
    message: str | None = None
    answers: Mapping[str, Any] = field(default_factory=dict)
    check_drift: bool = True


def _render(project: Project, installed: Installed, answers: Mapping[str, Any], dest: Path) -> str:
    """Render the template the project should be on into *dest*; return its version."""
    if project.is_bundled:
        render_installed(installed, dest, answers)
        return version_text(installed.version)
    render_template(TemplateSource(project.template_location()), dest, data=answers, defaults=True)
    commit = load_answers(dest).get("_commit")
    return _label(None if commit is None else str(commit))


def _label(commit: str | None) -> str:
    if commit is None:
        return "unversioned"
    try:
        return version_text(commit)
    except UsageError:
        return commit


# --- Checks ----------------------------------------------------------------


def _open_repo(project: Project) -> ProjectGit:
    git = ProjectGit.of(project.root)
    if git is None:
        raise NotAProjectError(
            f"{project.root} is not a git repository; apiforge update merges template "
            "changes through the git history that `apiforge new` starts. For a project made "
            "with --no-git: `git init && git add --all && git commit -m 'Start'`, then "
            "`apiforge update --adopt`."
        )
    return git


def _current_branch(git: ProjectGit) -> str:
    branch = git.run("rev-parse", "--abbrev-ref", "HEAD", check=False).strip()
    if not branch or branch == "HEAD":
        raise UsageError("HEAD is detached; check out the branch to update (`git switch main`).")
    if branch == git.refs.branch:
        raise UsageError(
            f"You are on {git.refs.branch}, which apiforge keeps for the pristine template; "
            "check out your own branch (`git switch main`)."
        )
    return branch


def _merging(git: ProjectGit) -> bool:
    return git.ok("rev-parse", "--quiet", "--verify", "MERGE_HEAD")


def _status(git: ProjectGit) -> list[str]:
    return git.run("--no-optional-locks", "status", "--porcelain").splitlines()


def _check_clean(git: ProjectGit, command: str = "apiforge update") -> None:
    """Refuse a merge in progress and uncommitted changes to tracked files.

    Untracked files do not block an update; one the template would add is refused by
    :func:`_check_in_the_way`, naming it. In a monorepo, unstaged changes outside the
    project do not block it either (the merge leaves them alone), but staged ones
    anywhere do: the merge commit would take them in.
    """
    if _merging(git):
        raise UsageError(
            "A merge is in progress; finish it (`git commit`) or abort it "
            "(`git merge --abort`) first."
        )
    changed = [
        line
        for line in _status(git)
        if not line.startswith("??") and (line[0] != " " or line[3:].startswith(git.prefix))
    ]
    if changed:
        first = changed[0][3:]
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise UsageError(
            f"The work tree has uncommitted changes ({first}{more}); "
            f"commit or stash them, then run {command} again."
        )


def _template_tip(git: ProjectGit, *, create: bool) -> tuple[str, str | None]:
    """The commit the template branch is on, and a note when it came from a remote.

    A fresh clone has the branch only as ``origin/apiforge/template`` (the README
    tells teams to push it): with *create* the local branch is made from it.
    """
    if git.ok("rev-parse", "--quiet", "--verify", git.refs.template):
        return _rev(git, git.refs.template), None
    remotes = git.run(
        "for-each-ref", "--format=%(refname:short)", f"refs/remotes/*/{git.refs.branch}"
    ).split()
    if remotes:
        remote = next((name for name in remotes if name.startswith("origin/")), remotes[0])
        tip = _rev(git, f"refs/remotes/{remote}")
        if not create:
            return tip, f"The branch {git.refs.branch} would be created from {remote}."
        git.run("branch", "--no-track", git.refs.branch, tip)
        return tip, f"Created the branch {git.refs.branch} from {remote}."
    raise UsageError(
        f"The branch {git.refs.branch}, which holds the pristine template that updates merge "
        "from, is missing (push it from the clone that has it, or fetch it); without it, "
        "`apiforge update --adopt` makes it anew from the version the project records."
    )


def _after_an_aborted_merge(git: ProjectGit, tip: str, *, move: bool) -> tuple[str, str] | None:
    """Put the template branch back where it was when the last update's merge was
    aborted (`git merge --abort`), so that the next update merges everything again.

    Returns the template branch's commit and a note, or None when there is nothing to do.
    """
    if not git.ok("rev-parse", "--quiet", "--verify", git.refs.pre_template):
        return None
    if git.ok("rev-parse", "--quiet", "--verify", git.refs.post_head) or _merging(git):
        return None
    pre_tip = _rev(git, git.refs.pre_template)
    if tip == pre_tip or git.ok("merge-base", "--is-ancestor", tip, "HEAD"):
        return None
    if move:
        git.run("update-ref", git.refs.template, pre_tip, tip)
        _forget_undo(git)
        return (
            pre_tip,
            f"The last update's merge was aborted; {git.refs.branch} is back where it was.",
        )
    return pre_tip, f"The last update's merge was aborted; {git.refs.branch} would go back first."


def _check_history(git: ProjectGit, tip: str) -> None:
    """Refuse when the branch and the template branch share no history (shallow clones)."""
    if git.ok("merge-base", "HEAD", tip):
        return
    if git.run("rev-parse", "--is-shallow-repository").strip() == "true":
        raise UsageError(
            "This is a shallow clone, without the history the project shares with "
            f"{git.refs.branch}; run `git fetch --unshallow`, then apiforge update again."
        )
    raise UsageError(
        f"The branch and {git.refs.branch} share no history; remove the template branch "
        f"(`git branch -D {git.refs.branch}`) and run `apiforge update --adopt`."
    )


def _rev(git: ProjectGit, ref: str) -> str:
    return git.run("rev-parse", "--verify", f"{ref}^{{commit}}").strip()


def _answers(
    project: Project, installed: Installed, data: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The answers to render with, and the ones *data* changes (checked and cast)."""
    template = project.template(installed)
    if template is None:
        changed = dict(data)
        return {**project.answers, **changed}, changed
    changed = template.check_answers(data)
    answers = {**project.answers, **changed}
    if project.is_bundled:
        # Answers to questions the template no longer asks are dropped.
        asked = {question.name for question in template.questions if question.asked}
        answers = {key: value for key, value in answers.items() if key in asked}
    changed = {key: value for key, value in changed.items() if project.answers.get(key) != value}
    return answers, changed


# --- The update itself ----------------------------------------------------


def update_project(options: UpdateOptions, progress: Progress | None = None) -> UpdateResult:
    """Update the project at ``options.project`` to the template it should be on.

    Raises :class:`UsageError` (nothing changed) when the project cannot be updated,
    :class:`UpdateConflict` when the merge left conflicts, and :class:`Interrupted`
    on Ctrl-C, after putting the project back as it was.
    """
    step = progress or (lambda _step: None)
    git: ProjectGit | None = None
    head: str | None = None
    try:
        step("check")
        installed = options.installed or installed_template()
        project = read_project(options.project)
        git = _open_repo(project)
        branch = _current_branch(git)
        head = _rev(git, "HEAD")
        project.behind(installed)  # a project newer than this apiforge is refused
        uncommitted = False
        if options.preview:
            uncommitted = _merging(git) or bool(_status(git))
        else:
            _check_clean(git, options.command)
        tip, note = _template_tip(git, create=not options.preview)
        tip, note = _after_an_aborted_merge(git, tip, move=not options.preview) or (tip, note)
        _check_history(git, tip)
        answers, changed = _answers(project, installed, options.data)
        for key, value in options.managed.items():
            if project.answers.get(key) != value:
                changed[key] = value
            answers[key] = value
        with tempfile.TemporaryDirectory(prefix="apiforge-update-") as tmp:
            step("render")
            rendered = Path(tmp) / project.root.name
            target = _render(project, installed, answers, rendered)
            plan = _Plan(
                _label(project.commit),
                target,
                changed,
                options.message,
                answers=answers,
                check_drift=options.check_drift,
            )
            if not options.preview:
                return _apply(git, project.root, rendered, plan, step, preview=False, note=note)
            step("preview")
            clone = Path(tmp) / "preview"
            _clone(git, clone, branch, tip)
            result = _apply(
                git.at(clone), project.root, rendered, plan, step, preview=True, note=note
            )
            result.preview = True
            result.uncommitted = uncommitted
            return result
    except KeyboardInterrupt:
        if options.preview or git is None or head is None:
            raise Interrupted("Interrupted; the project was left as it was.") from None
        raise Interrupted(_interrupted_state(git, head)) from None


def _interrupted_state(git: ProjectGit, head: str) -> str:
    """What is true of the project after Ctrl-C, read from the repository itself."""
    if _merging(git):
        return (
            "Interrupted during the merge, which is still in progress; finish it "
            f"(`git commit`) or go back with `{UNDO_COMMAND}`."
        )
    if _rev(git, "HEAD") != head:
        return (
            "Interrupted after the update was merged (one merge commit), before it was "
            f"checked; go back with `{UNDO_COMMAND}` if you do not want it."
        )
    return "Interrupted; the project was left as it was."


def _clone(git: ProjectGit, clone: Path, branch: str, tip: str) -> None:
    """A throwaway clone of the project's branch and template branch, for a preview."""
    head = _rev(git, "HEAD")
    git.run("clone", "--quiet", "--shared", "--no-checkout", str(git.root), str(clone))
    copy = git.at(clone)
    copy.run("update-ref", git.refs.template, tip)
    copy.run("checkout", "--quiet", "-B", branch, head)


def _apply(
    git: ProjectGit,
    shown_root: Path,
    rendered: Path,
    plan: _Plan,
    step: Progress,
    *,
    preview: bool,
    note: str | None = None,
) -> UpdateResult:
    head = _rev(git, "HEAD")
    tip = _rev(git, git.refs.template)
    step("template")
    new_tip = _commit_render(git, rendered, tip, _template_message(plan))
    result = UpdateResult(shown_root, plan.current, plan.target, files=[])
    if note is not None:
        result.findings.notes.append(note)
    if new_tip == tip and git.ok("merge-base", "--is-ancestor", tip, head):
        result.up_to_date = True
        if not preview and git.ok("rev-parse", "--quiet", "--verify", git.refs.pre_head):
            # An undo now would take back an earlier update: it asks first.
            _no_op_file(git).write_text(head, "utf-8")
        return result
    _check_in_the_way(git, shown_root, tip, new_tip, head)
    try:
        if not preview:
            _record_undo(git, head, tip)
        if new_tip != tip:
            git.run("update-ref", "-m", "apiforge update", git.refs.template, new_tip, tip)
        step("merge")
        clean = _merge(git, _merge_message(plan))
        kept_deleted: list[str] = []
        kept_yours: list[str] = []
        conflicts: list[str] = []
        if not clean:
            kept_deleted, kept_yours, conflicts = _resolve(git)
        step("settle")
        conflicts = settle(git, tip, new_tip, head, conflicts, result.findings)
        if not conflicts:
            git.run(*git.identity_args(), "commit", "--quiet", "--no-edit", "--no-verify")
        result.committed = not conflicts
        if conflicts and not preview:
            _record_merge_paths(git, result.findings)
        if not preview and result.committed:
            git.run("update-ref", git.refs.post_head, "HEAD")
        result.files = _classify(git, tip, new_tip, head, conflicts, kept_deleted, kept_yours)
    except BaseException:
        if not preview:
            _roll_back(git, head, tip)
        raise
    if conflicts:
        if not preview:
            raise UpdateConflict(result)
        return result
    step("inspect")
    try:
        inspect(
            git,
            tip,
            new_tip,
            head,
            plan.answers,
            drift=plan.check_drift,
            findings=result.findings,
            local=shown_root,
        )
    except KeyboardInterrupt:
        if preview:
            raise
        raise Interrupted(
            "Interrupted while checking the result; the update is merged (one merge commit), "
            f"unchecked. Check it with `uv run alembic check`, or go back with `{UNDO_COMMAND}`."
        ) from None
    if result.findings.problems and not preview:
        raise UpdateBroken(result)
    return result


def _check_in_the_way(git: ProjectGit, root: Path, tip: str, new_tip: str, head: str) -> None:
    """Refuse when the template adds files the project has but git does not track.

    Git overwrites ignored files without asking; a team's ignored local file must
    not be lost to a file the new template brings.
    """
    added = [path for path, status in _name_status(git, tip, new_tip).items() if status == "A"]
    if not added:
        return
    tracked = set(git.run("ls-tree", "-r", "--name-only", "-z", head).split("\0"))
    in_the_way = [
        git.local(path)
        for path in added
        if path not in tracked and (root / git.local(path)).exists()
    ]
    if in_the_way:
        shown = ", ".join(in_the_way[:5]) + (" and more" if len(in_the_way) > 5 else "")
        raise UsageError(
            f"The template now adds {shown}, which the project has as untracked or ignored "
            "files; move them away, run apiforge update, then merge your copies back."
        )


def _template_message(plan: _Plan) -> str:
    if plan.message is not None:
        return f"apiforge template {plan.target}: {plan.message}"
    message = f"apiforge template {plan.target}"
    if plan.changed_answers:
        pairs = ", ".join(f"{key}={value}" for key, value in plan.changed_answers.items())
        message += f" with {pairs}"
    return message


def _merge_message(plan: _Plan) -> str:
    if plan.message is not None:
        return plan.message
    if plan.current == plan.target:
        message = f"Update answers of apiforge template {plan.target}"
    else:
        message = f"Update to apiforge template {plan.target} (from {plan.current})"
    if plan.changed_answers:
        pairs = ", ".join(f"{key}={value}" for key, value in plan.changed_answers.items())
        message += f"\n\nChanged answers: {pairs}"
    return message


def _commit_render(git: ProjectGit, rendered: Path, parent: str | None, message: str) -> str:
    """Commit the tree of *rendered* on top of *parent* (or as a root commit); return
    *parent* if nothing changed.

    The commit is built with a temporary index, so neither the project's index nor
    its files are touched, and the branch itself is not moved.
    """
    git_dir = git.run("rev-parse", "--absolute-git-dir").strip()
    with tempfile.TemporaryDirectory(prefix="apiforge-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        git.run(f"--git-dir={git_dir}", f"--work-tree={rendered}", "add", "--all", env=env)
        tree = git.run(f"--git-dir={git_dir}", "write-tree", env=env).strip()
        if git.prefix:
            # A project in a subfolder: its template branch holds the render there.
            env["GIT_INDEX_FILE"] = str(Path(tmp) / "prefixed")
            git.run(f"--git-dir={git_dir}", "read-tree", f"--prefix={git.prefix}", tree, env=env)
            tree = git.run(f"--git-dir={git_dir}", "write-tree", env=env).strip()
    if parent is None:
        return git.run(*git.identity_args(), "commit-tree", tree, "-m", message).strip()
    if tree == git.run("rev-parse", f"{parent}^{{tree}}").strip():
        return parent
    args = ("commit-tree", tree, "-p", parent, "-m", message)
    return git.run(*git.identity_args(), *args).strip()


def _no_op_file(git: ProjectGit) -> Path:
    """Where the commit of the last update that changed nothing is noted (in .git, like
    MERGE_HEAD: no ref, no file of the project changes)."""
    name = "apiforge-no-op-update" + (
        f"@{git.prefix.strip('/').replace('/', '%')}" if git.prefix else ""
    )
    return Path(git.run("rev-parse", "--absolute-git-dir").strip()) / name


def _record_undo(git: ProjectGit, head: str, tip: str) -> None:
    _no_op_file(git).unlink(missing_ok=True)
    git.run("update-ref", git.refs.pre_head, head)
    git.run("update-ref", git.refs.pre_template, tip)
    git.run("update-ref", "-d", git.refs.post_head)


def _forget_undo(git: ProjectGit) -> None:
    for ref in (git.refs.pre_head, git.refs.pre_template, git.refs.post_head):
        git.run("update-ref", "-d", ref)
    _no_op_file(git).unlink(missing_ok=True)
    _merge_paths_file(git).unlink(missing_ok=True)


def _merge_paths_file(git: ProjectGit) -> Path:
    return Path(git.run("rev-parse", "--absolute-git-dir").strip()) / "apiforge-merge-paths"


def _record_merge_paths(git: ProjectGit, findings: Findings) -> None:
    """Note the files the update wrote into a merge left with conflicts (the lock file,
    a merge revision), so that undo knows they belong to the update."""
    written = ([LOCK_FILE] if findings.lock is not None else []) + (
        [findings.merge_revision] if findings.merge_revision else []
    )
    written = [git.path(path) for path in written]
    _merge_paths_file(git).write_text("".join(f"{path}\n" for path in written), "utf-8")


def _merge_paths(git: ProjectGit) -> set[str]:
    """The paths a merge in progress is about: what the template branch changes, what
    the update wrote, and what is unmerged."""
    base = git.run("merge-base", "HEAD", "MERGE_HEAD").strip()
    changed = git.run("diff", "--name-only", "--no-renames", "-z", base, "MERGE_HEAD").split("\0")
    unmerged = git.run("diff", "--name-only", "--diff-filter=U", "-z").split("\0")
    recorded = _merge_paths_file(git)
    written = recorded.read_text("utf-8").split() if recorded.is_file() else []
    return {path for path in [*changed, *unmerged, *written] if path}


def _roll_back(git: ProjectGit, head: str, tip: str) -> None:
    """Put the branch, the files and the template branch back; forget the undo record.

    In a monorepo, unstaged changes outside the project may be there (they do not
    block an update), so only what the update touched is put back.
    """
    try:
        if not git.prefix:
            git.run("reset", "--hard", "--quiet", head)
        else:
            if _merging(git):
                git.run("merge", "--abort")
            git.run("reset", "--quiet", "--merge", head)
        git.run("update-ref", git.refs.template, tip)
        _forget_undo(git)
    except KeyboardInterrupt:
        raise Interrupted(
            f"Interrupted while rolling back; run `{UNDO_COMMAND}` to restore the project."
        ) from None
    except ApiforgeError as exc:
        raise UserError(
            f"The update failed and could not be rolled back ({exc}); "
            f"run `{UNDO_COMMAND}` to restore the project."
        ) from exc


def _merge(git: ProjectGit, message: str) -> bool:
    """Merge the template branch without committing; True when clean, False when
    conflicts are left."""
    completed = git.attempt(
        *git.identity_args(),
        "merge",
        "--no-ff",
        "--no-commit",
        "--no-edit",
        "--no-verify",
        "--quiet",
        "-X",
        "no-renames",
        "-m",
        message,
        git.refs.branch,
    )
    if completed.returncode == 0:
        return True
    if _merging(git):
        return False
    lines = (completed.stderr or completed.stdout).strip().splitlines() or ["no output"]
    raise GitError(f"git merge failed: {lines[0].removeprefix('error: ')}")


def _resolve(git: ProjectGit) -> tuple[list[str], list[str], list[str]]:
    """Settle the conflicts apiforge has a policy for; return what is left to the user.

    Returns the files kept deleted, the files kept as the user changed them, and
    the files with conflicts.
    """
    stages: dict[str, set[str]] = {}
    for entry in git.run("ls-files", "--unmerged", "-z").split("\0"):
        if entry:
            info, path = entry.split("\t", 1)
            stages.setdefault(path, set()).add(info.split()[2])
    kept_deleted = sorted(path for path, s in stages.items() if "2" not in s and "3" in s)
    kept_yours = sorted(path for path, s in stages.items() if "2" in s and "3" not in s)
    both_deleted = sorted(path for path, s in stages.items() if not s & {"2", "3"})
    conflicts = sorted(path for path, s in stages.items() if {"2", "3"} <= s)
    if kept_deleted or both_deleted:
        git.run("rm", "--quiet", "--force", "--ignore-unmatch", "--", *kept_deleted, *both_deleted)
    if kept_yours:
        git.run("add", "--", *kept_yours)
    return kept_deleted, kept_yours, conflicts


def _name_status(git: ProjectGit, old: str, new: str) -> dict[str, str]:
    fields = git.run("diff", "--name-status", "--no-renames", "-z", old, new).split("\0")
    return {path: status[0] for status, path in zip(fields[::2], fields[1::2], strict=False)}


def _classify(
    git: ProjectGit,
    old_tip: str,
    new_tip: str,
    head: str,
    conflicts: list[str],
    kept_deleted: list[str],
    kept_yours: list[str],
) -> list[FileChange]:
    """What happened to each template file, under the path it has in the project (a
    file the team renamed is reported where it is now, as git merged it there)."""
    theirs = _name_status(git, old_tip, new_tip)
    ours = _name_status(git, old_tip, head)
    moved = _renames(git, old_tip, head)
    template_files = git.run("ls-tree", "-r", "--name-only", "-z", new_tip).split("\0")
    fixed = dict.fromkeys(conflicts, Outcome.CONFLICT)
    fixed.update(dict.fromkeys(kept_deleted, Outcome.KEPT_DELETED))
    fixed.update(dict.fromkeys(kept_yours, Outcome.KEPT_YOURS))
    changes: list[FileChange] = []
    for path in sorted({*template_files, *theirs} - {""}):
        shown = moved.get(path, path)
        if shown in fixed:
            outcome = fixed.pop(shown)
        elif path not in theirs:
            outcome = Outcome.UNCHANGED
        elif theirs[path] == "D":
            if ours.get(path) == "D" and path not in moved:
                continue
            outcome = Outcome.REMOVED
        elif path in ours or path in moved:
            outcome = Outcome.MERGED
        else:
            outcome = Outcome.ADDED if theirs[path] == "A" else Outcome.UPDATED
        changes.append(FileChange(git.local(shown), outcome))
    # Whatever else git left unresolved (a path neither side had) is reported too.
    changes += [FileChange(git.local(path), outcome) for path, outcome in sorted(fixed.items())]
    return sorted(changes, key=lambda change: change.path)


def _renames(git: ProjectGit, old: str, new: str) -> dict[str, str]:
    """The files renamed between two commits, old path to new path, as git detects them."""
    fields = git.run("diff", "--name-status", "-M", "-z", old, new).split("\0")
    renamed: dict[str, str] = {}
    position = 0
    while position < len(fields) - 1:
        status = fields[position]
        if status.startswith(("R", "C")):
            if status.startswith("R"):
                renamed[fields[position + 1]] = fields[position + 2]
            position += 3
        else:
            position += 2
    return renamed


# --- Adopting a project without a template branch ---------------------------------


@dataclass(frozen=True)
class AdoptResult:
    project: Path
    version: str
    """The template version whose render the template branch now holds."""
    merge: str
    """The commit on the current branch that records the template branch as merged."""


def adopt_project(path: Path, installed: Installed | None = None) -> AdoptResult:
    """Give a project made with ``--no-git`` (or whose template branch is lost) the
    template branch that updates merge from.

    The template is rendered at the version the project records, with its answers,
    and committed as the root of `apiforge/template`; an ``ours`` merge then records
    that render as the base of the current branch without changing a file. Later
    updates merge the template's changes since that version, keeping every edit.
    """
    try:
        return _adopt(path, installed or installed_template())
    except KeyboardInterrupt:
        raise Interrupted("Interrupted; the project was left as it was.") from None


def start_in_repository(project_root: Path, message: str) -> str:
    """Record a project just written into a subfolder of an existing repository.

    Its render becomes the root of the project's own template branch, and one commit
    on the current branch adds the project's files with that branch as its second
    parent, so later updates merge from it. Nothing else of the repository's index
    or files changes. Returns the new commit.
    """
    git = ProjectGit.of(project_root)
    if git is None or not git.prefix:
        raise UsageError(f"{project_root} is not in a subfolder of a git repository.")
    tip = _commit_render(git, project_root, None, "apiforge template (generated)")
    head = _rev(git, "HEAD") if git.ok("rev-parse", "--quiet", "--verify", "HEAD") else None
    git_dir = git.run("rev-parse", "--absolute-git-dir").strip()
    with tempfile.TemporaryDirectory(prefix="apiforge-index-") as tmp:
        env = {**os.environ, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if head is not None:
            git.run(f"--git-dir={git_dir}", "read-tree", head, env=env)
        project_tree = f"{tip}:{git.prefix.rstrip('/')}"
        git.run(
            f"--git-dir={git_dir}", "read-tree", f"--prefix={git.prefix}", project_tree, env=env
        )
        tree = git.run(f"--git-dir={git_dir}", "write-tree", env=env).strip()
    parents = ["-p", head, "-p", tip] if head is not None else ["-p", tip]
    commit = git.run(*git.identity_args(), "commit-tree", tree, *parents, "-m", message).strip()
    git.run("update-ref", git.refs.template, tip)
    git.run("update-ref", "HEAD", commit, *([head] if head is not None else []))
    git.run("reset", "--quiet", "--", git.prefix)
    return commit


def _adopt(path: Path, installed: Installed) -> AdoptResult:
    project = read_project(path)
    git = Git(project.root)
    if not git.is_repo():
        raise NotAProjectError(
            f"{project.root} is not a git repository; make it one "
            "(`git init && git add --all && git commit -m 'Start'`), then run "
            "`apiforge update --adopt` again."
        )
    git = _open_repo(project)
    if not git.ok("rev-parse", "--quiet", "--verify", "HEAD"):
        raise UsageError("The repository has no commit yet; commit the project first.")
    branch = _current_branch(git)
    _check_clean(git)
    if git.ok("rev-parse", "--quiet", "--verify", git.refs.template):
        raise UsageError(
            f"{project.root.name} has the branch {git.refs.branch} already; run `apiforge update`."
        )
    if project.is_bundled and project.version != parse_version(installed.version):
        raise UsageError(
            f"{project.root.name} is on apiforge template {project.version}, and adopting "
            f"renders that same version; run `uvx apiforge@{project.version} update --adopt`, "
            "then `apiforge update` with this apiforge."
        )
    with tempfile.TemporaryDirectory(prefix="apiforge-adopt-") as tmp:
        rendered = Path(tmp) / project.root.name
        if project.is_bundled:
            render_installed(installed, rendered, project.answers)
            version = version_text(installed.version)
        else:
            source = TemplateSource(project.template_location(), project.commit)
            render_template(source, rendered, data=project.answers, defaults=True)
            version = _label(project.commit)
        tip = _commit_render(git, rendered, None, f"apiforge template {version} (adopted)")
    git.run("update-ref", git.refs.template, tip)
    try:
        git.run(
            *git.identity_args(),
            "merge",
            "--quiet",
            "--no-verify",
            "--allow-unrelated-histories",
            "-s",
            "ours",
            "-m",
            f"Adopt apiforge template {version} as the base of {branch}",
            git.refs.branch,
        )
    except BaseException:
        git.run("update-ref", "-d", git.refs.template)
        raise
    return AdoptResult(project.root, version, _rev(git, "HEAD"))


# --- Undo ------------------------------------------------------------------


def undo_update(path: Path) -> UndoResult:
    """Put the project back exactly as it was before the last update.

    It aborts a merge in progress, resets the current branch (and the files) to
    the commit it was on, and moves the template branch back. Changes that are not
    part of the update are never discarded: undo refuses while there are any.
    """
    try:
        return _undo(path, apply=True)
    except KeyboardInterrupt:
        raise Interrupted(f"Interrupted; run `{UNDO_COMMAND}` again to finish.") from None


def plan_undo(path: Path) -> UndoResult:
    """What :func:`undo_update` would do, with every check it makes; changes nothing."""
    return _undo(path, apply=False)


def _undo(path: Path, *, apply: bool) -> UndoResult:
    start = path.expanduser().absolute()
    if start.is_file():
        start = start.parent
    if not start.is_dir():
        raise UsageError(f"{path} does not exist.")
    try:
        project_root = find_project(start)
    except NotAProjectError:
        project_root = start
    found = ProjectGit.of(project_root)
    if found is None:
        raise NotAProjectError(f"{path} is not a git repository, so there is no update to undo.")
    git = found
    if not git.ok("rev-parse", "--quiet", "--verify", git.refs.pre_head):
        raise UsageError(
            f"There is no update to undo in {git.project_root}: apiforge keeps the state before "
            "the last update only, and that one was undone or never made. Earlier updates "
            "are ordinary merge commits (`git log --merges`); revert one with "
            "`git revert -m 1 COMMIT`."
        )
    pre_head = _rev(git, git.refs.pre_head)
    pre_tip = _rev(git, git.refs.pre_template)
    has_post = git.ok("rev-parse", "--quiet", "--verify", git.refs.post_head)
    post = _rev(git, git.refs.post_head) if has_post else None
    head = _rev(git, "HEAD")
    merging = _merging(git)
    if head not in {pre_head, post} and not _is_update_merge(git, head, pre_head):
        raise UsageError(
            "The branch has moved since the last update (other commits or another branch); "
            f"undo by hand with `git reset --hard {pre_head[:12]}` if you are sure."
        )
    changed = [line[3:] for line in _status(git) if not line.startswith("??")]
    if merging:
        part_of_it = _merge_paths(git)
        changed = [path for path in changed if path.split(" -> ")[-1] not in part_of_it]
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise UsageError(
            f"Undoing would discard changes that are not part of the update ({changed[0]}"
            f"{more}); commit them, or save them elsewhere, first."
        )
    result = _undo_result(git, pre_head, head, merging)
    if apply:
        git.run("reset", "--hard", "--quiet", pre_head)
        git.run("update-ref", git.refs.template, pre_tip)
        _forget_undo(git)
    return result


def _undo_result(git: ProjectGit, pre_head: str, head: str, merging: bool) -> UndoResult:
    """Name what undoing the update takes away, and the migrations among it."""
    folder = git.path(MIGRATIONS.as_posix())
    if merging:
        message = Path(git.run("rev-parse", "--absolute-git-dir").strip()) / "MERGE_MSG"
        lines = message.read_text("utf-8").splitlines() if message.is_file() else []
        what = (lines[0] if lines else "the update in progress") + " (not committed yet)"
        after = set(git.run("ls-files", "-z", "--", folder).split("\0"))
    elif head != pre_head:
        what = git.run("log", "-1", "--format=%s", head).strip()
        after = set(_tree_files(git, head, folder))
    else:
        what = f"the move of {git.refs.branch} by the last update"
        after = set()
    before = set(_tree_files(git, pre_head, folder))
    removed = tuple(sorted(git.local(path) for path in after - before if path.endswith(".py")))
    downgrade_to = None
    if removed and not before:
        downgrade_to = "base"
    elif removed:
        with tempfile.TemporaryDirectory(prefix="apiforge-undo-") as tmp:
            archive = git.run_bytes("archive", "--format=tar", pre_head, "--", *sorted(before))
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(tmp, filter="data")
            heads = read_migrations(Path(tmp) / git.prefix).heads
        downgrade_to = heads[0] if len(heads) == 1 else None
    no_op = _no_op_file(git)
    earlier = no_op.is_file() and no_op.read_text("utf-8").strip() == head
    return UndoResult(git.project_root, pre_head, what, earlier, removed, downgrade_to)


def _tree_files(git: ProjectGit, commit: str, folder: str) -> list[str]:
    listed = git.run("ls-tree", "-r", "--name-only", "-z", commit, "--", folder)
    return [path for path in listed.split("\0") if path]


def _is_update_merge(git: ProjectGit, commit: str, pre_head: str) -> bool:
    """Whether *commit* merges the template branch into the pre-update HEAD.

    That is the commit a user makes after resolving an update's conflicts.
    """
    parents = git.run("rev-list", "--parents", "--max-count=1", commit).split()[1:]
    return parents == [pre_head, _rev(git, git.refs.template)]
