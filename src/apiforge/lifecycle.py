"""What an update does beyond git's merge, and what it checks afterwards.

Git merges text. Two kinds of file in a project are not text to merge:

* the **lock file** (`uv.lock`) is generated from `pyproject.toml`. When the
  template or the team changed the dependencies, the merged `pyproject.toml` is
  locked again with uv, starting from the team's lock, so every version the team
  had stays wherever it still fits. uv's cache is tried first, then the registry.
* the **migration graph**: a release's migrations follow the template's previous
  revision, a team's follow its own head, so after the merge there are two heads.
  apiforge writes a merge revision joining them (see :mod:`apiforge.migrations`).

After the merge commit, :func:`inspect` looks at the result: one migration head,
models that agree with the migrations (on a scratch database, never the
team's), and the settings the release added or removed.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from apiforge.errors import UsageError, UserError
from apiforge.migrations import MIGRATIONS, read_migrations, write_merge_revision
from apiforge.project import ProjectGit

__all__ = [
    "LOCK_FILE",
    "Drift",
    "Findings",
    "LockOutcome",
    "SettingsChange",
    "check_drift",
    "env_variables",
    "inspect",
    "relock",
    "settle",
]

LOCK_FILE = "uv.lock"
PYPROJECT = "pyproject.toml"
ENV_EXAMPLE = ".env.example"


@dataclass(frozen=True)
class LockOutcome:
    """How the lock file was made again after the merge."""

    regenerated: bool
    source: str = ""
    """``cache`` (offline) or ``registry``."""
    problem: str | None = None
    """Why it could not be regenerated; the next step names the fix."""


@dataclass(frozen=True)
class SettingsChange:
    """Environment variables the release added or removed in `.env.example`."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Variables the update makes required that neither `.env` nor the environment sets."""


@dataclass(frozen=True)
class Drift:
    """Whether the models and the migrations agree (`alembic check` on a scratch database)."""

    checked: bool
    ok: bool
    detail: str = ""
    """What failed, or why nothing was checked."""


@dataclass
class Findings:
    """What an update found and did beyond the merge."""

    lock: LockOutcome | None = None
    merge_revision: str | None = None
    """The merge revision apiforge wrote, relative to the project."""
    joined_heads: list[str] = field(default_factory=list)
    heads: list[str] = field(default_factory=list)
    """The migration heads of the result."""
    settings: SettingsChange = field(default_factory=SettingsChange)
    drift: Drift | None = None
    notes: list[str] = field(default_factory=list)
    """What the update did besides the merge that the team should know."""
    problems: list[str] = field(default_factory=list)
    """Why the result is known to be broken; empty when it is not."""
    next_steps: list[str] = field(default_factory=list)


# --- Before the merge commit -------------------------------------------------------


def settle(
    git: ProjectGit, tip: str, new_tip: str, head: str, conflicts: list[str], findings: Findings
) -> list[str]:
    """Regenerate the lock file and join migration heads in the merge being made.

    Runs with the merge in the index, before it is committed; what it writes is
    staged, so it becomes part of the one merge commit. Returns the conflicts that
    are left for the team.
    """
    conflicts = _settle_lock(git, tip, new_tip, head, conflicts, findings)
    _join_heads(git, conflicts, findings)
    return conflicts


def _changed(git: ProjectGit, old: str, new: str, *paths: str) -> bool:
    return not git.ok("diff", "--quiet", old, new, "--", *paths)


def _settle_lock(
    git: ProjectGit, tip: str, new_tip: str, head: str, conflicts: list[str], findings: Findings
) -> list[str]:
    root = git.project_root
    lock, pyproject = git.path(LOCK_FILE), git.path(PYPROJECT)
    if not (root / PYPROJECT).is_file():
        return conflicts
    # A team that dropped the lock file keeps it dropped.
    has_lock = git.ok("cat-file", "-e", f"{head}:{lock}")
    if not has_lock or not _changed(git, tip, new_tip, pyproject, lock):
        return conflicts
    if _changed(git, tip, head, lock):
        # Start from the team's lock: uv keeps every version in it that still fits.
        (root / LOCK_FILE).write_bytes(_show(git, head, lock))
    left = [path for path in conflicts if path != lock]
    if pyproject in conflicts:
        git.run("add", "--", lock)
        findings.lock = LockOutcome(False, problem=f"{PYPROJECT} has conflicts")
        findings.next_steps.append(
            f"After resolving {PYPROJECT}, run `uv lock` and `git add {LOCK_FILE}`; "
            "never merge the lock file by hand."
        )
        return left
    outcome = relock(root)
    findings.lock = outcome
    if outcome.problem is not None:
        findings.problems.append(f"{LOCK_FILE} could not be regenerated ({outcome.problem})")
        findings.next_steps.append(f"Run `uv lock` and commit {LOCK_FILE}.")
    git.run("add", "--", lock)
    return left


def _show(git: ProjectGit, commit: str, path: str) -> bytes:
    return git.run_bytes("show", f"{commit}:{path}")


def _uv_env(root: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    from apiforge.gates import find_python, project_env

    version_file = root / ".python-version"
    version = version_file.read_text(encoding="utf-8").strip() if version_file.is_file() else ""
    return project_env(extra, python=find_python(version) if version else None)


def relock(root: Path) -> LockOutcome:
    """Lock the project at *root* again with uv: from its cache first, else the registry."""
    from apiforge.tools import find_uv

    try:
        uv = find_uv()
    except UserError as exc:
        return LockOutcome(False, problem=str(exc))
    env = _uv_env(root)
    reason = ""
    for source, offline in (("cache", ["--offline"]), ("registry", [])):
        completed = subprocess.run(
            [uv, "lock", "--quiet", *offline],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode == 0:
            return LockOutcome(True, source)
        reason = _first_error(completed.stderr or completed.stdout)
    return LockOutcome(False, problem=f"uv lock: {reason}")


def _first_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if line.startswith(("error:", "\N{MULTIPLICATION SIGN}")):
            return line.removeprefix("error:").strip()
    return lines[0] if lines else "no output"


def _join_heads(git: ProjectGit, conflicts: list[str], findings: Findings) -> None:
    folder = git.path(MIGRATIONS.as_posix()) + "/"
    if any(path.startswith(folder) for path in conflicts):
        findings.next_steps.append(
            "After resolving the migrations, check `uv run alembic heads` shows one head "
            "(`uv run alembic merge heads` joins them)."
        )
        return
    try:
        graph = read_migrations(git.project_root)
    except UsageError as exc:
        findings.problems.append(str(exc).rstrip("."))
        return
    if len(graph.heads) < 2 or graph.missing:
        return
    reason = "Written by `apiforge update`: the template's migrations and the project's own"
    reason += " each ended in a head."
    path = write_merge_revision(git.project_root, graph, reason)
    git.run("add", "--", path.relative_to(git.root).as_posix())
    findings.merge_revision = path.relative_to(git.project_root).as_posix()
    findings.joined_heads = graph.heads


# --- After the merge commit --------------------------------------------------------


def inspect(
    git: ProjectGit,
    tip: str,
    new_tip: str,
    head: str,
    answers: Mapping[str, object],
    *,
    drift: bool,
    findings: Findings,
    environ: Mapping[str, str] | None = None,
    local: Path | None = None,
) -> Findings:
    """Check the project after the update's merge commit; say what to run next.

    *head* is the commit the project was on before the update. *local* is the folder
    whose `.env` says which settings are set (the project's, also when *git* works in a
    throwaway clone for a preview).
    """
    root = git.project_root
    environ = os.environ if environ is None else environ
    steps: list[str] = []
    if _changed(git, head, "HEAD", git.path(PYPROJECT), git.path(LOCK_FILE)):
        steps.append("uv sync")
    if (root / MIGRATIONS).is_dir():
        try:
            graph = read_migrations(root)
        except UsageError as exc:
            graph = None
            message = str(exc).rstrip(".")
            if message not in findings.problems:
                findings.problems.append(message)
        if graph is not None:
            findings.heads = graph.heads
            problem = graph.problem()
            if problem is not None:
                findings.problems.append(problem)
    local = git.project_root if local is None else local
    findings.settings = _settings_change(git, tip, new_tip, environ, local / ".env")
    if findings.settings.missing:
        names = ", ".join(findings.settings.missing)
        steps.append(f"set {names} in .env (see .env.example)")
    if _changed(git, head, "HEAD", git.path(MIGRATIONS.as_posix())):
        steps.append("uv run alembic upgrade head")
    findings.next_steps[:0] = steps
    if drift and not findings.problems and (root / "alembic.ini").is_file():
        findings.drift = check_drift(git, "HEAD", answers, environ, local / ".env")
        if findings.drift.checked and not findings.drift.ok:
            findings.problems.append(
                f"the models and the migrations disagree ({findings.drift.detail})"
            )
    return findings


_ENV_LINE = re.compile(r"^(?P<comment>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=")


def env_variables(text: str) -> dict[str, bool]:
    """The variables an `.env.example` names, each with whether it is required.

    ``NAME=...`` is a required setting, ``# NAME=...`` an optional one shown with
    its default.
    """
    found: dict[str, bool] = {}
    for line in text.splitlines():
        match = _ENV_LINE.match(line.strip())
        if match:
            found[match["name"]] = found.get(match["name"], False) or not match["comment"]
    return found


def _read_at(git: ProjectGit, commit: str, path: str) -> str:
    if not git.ok("cat-file", "-e", f"{commit}:{path}"):
        return ""
    return _show(git, commit, path).decode("utf-8", errors="replace")


def _settings_change(
    git: ProjectGit, tip: str, new_tip: str, environ: Mapping[str, str], dotenv: Path
) -> SettingsChange:
    before = env_variables(_read_at(git, tip, git.path(ENV_EXAMPLE)))
    after = env_variables(_read_at(git, new_tip, git.path(ENV_EXAMPLE)))
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    local = (
        env_variables(dotenv.read_text(encoding="utf-8", errors="replace"))
        if (dotenv.is_file())
        else {}
    )
    set_locally = {name for name, required in local.items() if required}
    # Newly required: added as required, or optional before and required now (as
    # DATABASE_URL is after `--data database=postgresql`).
    required = [name for name, needed in after.items() if needed and not before.get(name)]
    missing = [name for name in required if name not in set_locally and name not in environ]
    return SettingsChange(added, removed, missing)


# --- Drift on a scratch database ------------------------------------------------------

_SCRATCH_DATABASE = """\
import asyncio, sys
from sqlalchemy import make_url, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

async def main(url: str, action: str) -> None:
    target = make_url(url)
    admin = create_async_engine(
        target.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool
    )
    try:
        async with admin.connect() as connection:
            if action == "create":
                await connection.execute(text(f'CREATE DATABASE "{target.database}"'))
            else:
                await connection.execute(
                    text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)')
                )
    finally:
        await admin.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def _postgres_url(dotenv: Path, environ: Mapping[str, str]) -> str | None:
    for name in ("TEST_DATABASE_URL", "DATABASE_URL"):
        if environ.get(name):
            return environ[name]
    if dotenv.is_file():
        for line in dotenv.read_text(encoding="utf-8", errors="replace").splitlines():
            name, sep, value = line.strip().partition("=")
            if sep and name.strip() == "DATABASE_URL" and value.strip():
                return value.strip().strip("'\"")
    return None


def _scratch_url(url: str) -> str:
    """*url* with a fresh database name on the same server."""
    base, _, _ = url.rpartition("/")
    query = url.partition("?")[2]
    name = f"apiforge_drift_{secrets.token_hex(6)}"
    return f"{base}/{name}" + (f"?{query}" if query else "")


def check_drift(
    git: ProjectGit,
    commit: str,
    answers: Mapping[str, object],
    environ: Mapping[str, str],
    dotenv: Path,
) -> Drift:
    """Run the migrations of *commit* on a scratch database, then `alembic check`.

    The project is exported to a temporary folder and installed into a temporary
    environment from uv's cache, so neither its work tree, its `.venv` nor its
    database is touched. A PostgreSQL project needs a server: the one in
    TEST_DATABASE_URL or DATABASE_URL (environment or `.env`), where a scratch
    database is created and dropped.
    """
    from apiforge.tools import find_uv

    try:
        uv = find_uv()
    except UserError as exc:
        return Drift(False, False, str(exc))
    postgres = answers.get("database") == "postgresql"
    with tempfile.TemporaryDirectory(prefix="apiforge-drift-") as tmp:
        tree = Path(tmp) / "project"
        tree.mkdir()
        # The project's own tree: in a monorepo, its folder of the commit.
        treeish = f"{commit}:{git.prefix.rstrip('/')}" if git.prefix else commit
        archive = git.run_bytes("archive", "--format=tar", treeish)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        if postgres:
            server = _postgres_url(dotenv, environ)
            if server is None:
                return Drift(
                    False,
                    False,
                    "no PostgreSQL server to check against; set DATABASE_URL and run "
                    "`apiforge update` again, or `uv run alembic check` yourself",
                )
            url = _scratch_url(server)
        else:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}"
        env = _uv_env(
            tree,
            {
                "UV_PROJECT_ENVIRONMENT": str(Path(tmp) / "venv"),
                "UV_COMPILE_BYTECODE": "0",
                "DATABASE_URL": url,
                "SECRET_KEY": secrets.token_urlsafe(48),
            },
        )

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [uv, *args], cwd=tree, env=env, capture_output=True, text=True, check=False
            )

        installed = run("sync", "--locked", "--quiet")
        if installed.returncode != 0:
            reason = _first_error(installed.stderr)
            # A lock that does not match pyproject.toml is broken; anything else (no
            # network, no Python of that version) only keeps the check from running.
            stale = "needs to be updated" in installed.stderr
            return Drift(stale, False, f"uv sync --locked: {reason}")
        scratch = ("run", "--no-sync", "python", "-c", _SCRATCH_DATABASE, url)
        if postgres:
            created = run(*scratch, "create")
            if created.returncode != 0:
                return Drift(False, False, "cannot create a scratch database: " + _last(created))
        try:
            for command in (("alembic", "upgrade", "head"), ("alembic", "check")):
                completed = run("run", "--no-sync", *command)
                if completed.returncode != 0:
                    return Drift(True, False, f"{' '.join(command)}: {_last(completed)}")
        finally:
            if postgres:
                run(*scratch, "drop")
    return Drift(True, True)


def _last(completed: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (completed.stderr + completed.stdout).splitlines()]
    lines = [line for line in lines if line and not line.startswith("INFO")]
    return lines[-1] if lines else f"exit code {completed.returncode}"
