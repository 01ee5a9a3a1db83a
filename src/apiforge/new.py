"""`apiforge new`: render a project atomically, then set up git, `.env` and uv."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apiforge import __version__
from apiforge.errors import Interrupted, UsageError, UserError
from apiforge.git import Git
from apiforge.names import check_project_name
from apiforge.progress import Progress
from apiforge.project import TEMPLATE_BRANCH, enclosing_repository, load_answers
from apiforge.render import render_template
from apiforge.template import TemplateSource

__all__ = ["NewOptions", "NewResult", "create_project", "list_files"]


@dataclass
class NewOptions:
    """What `apiforge new` was asked to do."""

    target: Path
    data: Mapping[str, Any] = field(default_factory=dict)
    source: TemplateSource = field(default_factory=TemplateSource.bundled)
    interactive: bool = False
    git: bool = True
    install: bool = False
    dry_run: bool = False


@dataclass
class NewResult:
    """What `apiforge new` did."""

    path: Path
    files: list[str]
    answers: dict[str, Any]
    git: bool
    installed: bool
    outer_repository: Path | None = None
    """The repository the project was added to, when it was made in a folder of one (a
    monorepo): committed there, with a template branch of its own."""


def _check_target(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is a file; choose another path.")
    if target.is_dir() and any(target.iterdir()):
        raise UsageError(f"{target} exists and is not empty; choose a new or empty folder.")
    existing = _nearest_existing(target.parent)
    if not existing.is_dir():
        raise UsageError(f"{existing} is a file, not a folder; choose another path.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"Cannot write to {existing}; choose a folder you can write to.")


def _nearest_existing(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def list_files(root: Path) -> list[str]:
    """Every file below *root* (relative, sorted), leaving out `.git`."""
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if relative.parts[0] == ".git" or not path.is_file():
            continue
        files.append(relative.as_posix())
    return sorted(files)


def write_env(project: Path) -> None:
    """Write `.env` from `.env.example` with a fresh random `SECRET_KEY`."""
    example = project / ".env.example"
    if not example.is_file():
        return
    secret = secrets.token_urlsafe(48)
    lines = []
    for line in example.read_text(encoding="utf-8").splitlines():
        if line.startswith("SECRET_KEY="):
            line = f"SECRET_KEY={secret}"
        lines.append(line)
    env = project / ".env"
    env.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env.chmod(0o600)


def init_git(project: Path) -> None:
    """Make the first commit and keep the pristine render on the template branch."""
    git = Git(project)
    git.run("init", "--quiet", "--initial-branch=main")
    git.commit_all(f"Generate {project.name} with apiforge {__version__}")
    git.run("branch", TEMPLATE_BRANCH)


def _add_to_repository(project: Path) -> None:
    """Commit a project written into a folder of an existing repository (a monorepo),
    with its own template branch; on any failure the folder goes again."""
    from apiforge.update import start_in_repository

    git = Git(project)
    before = git.run("rev-parse", "--quiet", "--verify", "HEAD", check=False).strip()
    try:
        start_in_repository(project, f"Generate {project.name} with apiforge {__version__}")
    except BaseException:
        after = git.run("rev-parse", "--quiet", "--verify", "HEAD", check=False).strip()
        if after == before:  # the commit was not made: nothing refers to the files
            shutil.rmtree(project, ignore_errors=True)
        raise


def uv_sync(project: Path) -> None:
    """Install the project's environment with `uv sync`."""
    from apiforge.tools import find_uv

    result = subprocess.run(
        [find_uv(), "sync", "--quiet"], cwd=project, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines() or ["no output"]
        raise UserError(
            f"`uv sync` failed in {project} ({lines[-1].strip()}); fix it and run `uv sync` there."
        )


def create_project(options: NewOptions, progress: Progress | None = None) -> NewResult:
    """Render a new project into ``options.target``, all or nothing.

    The project is rendered and committed in a temporary folder beside the target
    and moved into place only when every step succeeded; on any failure or Ctrl-C
    the temporary folder is removed and the target is left as it was.
    """
    step = progress or (lambda _message: None)
    target = options.target.expanduser().resolve()
    _check_target(target)
    data = dict(options.data)
    template = options.source.load()  # None for a git URL: copier checks the answers
    suggested: dict[str, Any] = {}
    if template is None or template.question("project_name") is not None:
        if "project_name" in data or not options.interactive:
            data["project_name"] = str(data.get("project_name") or target.name)
            check_project_name(data["project_name"])
        else:
            # Asked at the terminal, with the folder's name as the suggestion.
            suggested["project_name"] = target.name
    if template is not None:
        data = {**template.check_answers(data), **template.managed_defaults()}

    # Stage beside the target (same file system, so the final move is a rename).
    anchor = None if options.dry_run else _nearest_existing(target.parent)
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.apiforge-", dir=anchor))
    except OSError as exc:
        raise UsageError(
            f"Cannot write to {anchor or 'the temporary folder'} ({exc.strerror}); "
            "choose a folder you can write to."
        ) from None
    staging = scratch / target.name
    try:
        step("render")
        render_template(
            options.source,
            staging,
            data=data,
            defaults=not options.interactive,
            user_defaults=suggested,
        )
        files = list_files(staging)
        answers = {k: v for k, v in load_answers(staging).items() if not k.startswith("_")}
        if options.dry_run:
            return NewResult(target, files, answers, git=False, installed=False)
        write_env(staging)
        outer = enclosing_repository(target.parent) if options.git else None
        if options.git and outer is None:
            step("git")
            init_git(staging)
        if target.is_dir():
            target.rmdir()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(target)
        if outer is not None:
            step("git")
            _add_to_repository(target)
    except KeyboardInterrupt:
        raise Interrupted("Interrupted; nothing was written.") from None
    except OSError as exc:
        message = f"Could not write {target} ({exc.strerror}); nothing was written."
        raise UserError(message) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if options.install:
        step("install")
        uv_sync(target)
    return NewResult(
        target, files, answers, git=options.git, installed=options.install, outer_repository=outer
    )
