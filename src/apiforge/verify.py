"""`apiforge verify`: render every combination of a matrix and run its gates.

For each combination of answers (see :mod:`apiforge.matrix`) the template is
rendered into a temporary folder the way `apiforge new` renders it, installed
with uv (shared cache) and put through the project's gates. PostgreSQL
combinations get a fresh database on one throwaway server, started the first
time one needs it. Progress reaches the caller as events; temporary folders,
running commands and the server are cleaned up whatever happens, Ctrl-C
included.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from threading import Lock
from typing import Any

from apiforge import gates as gates_module
from apiforge.add import AddOptions, add_resource
from apiforge.errors import ApiforgeError, Interrupted, UsageError
from apiforge.gates import Cancellation, Gate, GateResult, check_tools, find_python, project_env
from apiforge.matrix import Combination, Matrix, build_matrix
from apiforge.new import NewOptions, create_project, init_git, write_env
from apiforge.pgserver import PostgresServer, PostgresUnavailable, throwaway_postgres
from apiforge.project import Installed
from apiforge.resources import RESOURCES_ANSWER
from apiforge.template import Template, TemplateSource
from apiforge.update import Outcome, UpdateOptions, render_installed, update_project

__all__ = [
    "RENDER",
    "UPDATE",
    "CombinationFinished",
    "CombinationResult",
    "CombinationStarted",
    "Event",
    "Planned",
    "Status",
    "StepFinished",
    "VerifyOptions",
    "VerifyResult",
    "parse_shard",
    "plan",
    "run_matrix",
    "shard_of",
    "verify",
    "verify_combination",
]

RENDER = "render"
"""The first step of every combination: render the project (and create its database)."""
UPDATE = "update"
"""With ``--from``: add a resource to the project of the earlier version, then update it."""

_INTERRUPTED = "Interrupted; the temporary projects and the PostgreSQL server were removed."

_RENDER_LOCK = Lock()
"""Copier changes the process's working directory for a moment while it looks at a
template source, so renders run one at a time; the gates run in parallel."""


class Status(StrEnum):
    """What became of a combination."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    """Could not run here: its Python or PostgreSQL is not installed."""
    INVALID = "invalid"
    """The template refuses these answers (one of its validators)."""


@dataclass(frozen=True)
class CombinationResult:
    """The outcome of one combination: its steps (render, then the gates that ran)."""

    combination: Combination
    status: Status
    steps: tuple[GateResult, ...] = ()
    seconds: float = 0.0
    reason: str = ""
    """Why it was skipped or is invalid."""

    @property
    def failed_step(self) -> GateResult | None:
        return next((step for step in self.steps if not step.ok), None)


@dataclass(frozen=True)
class Planned:
    """The matrix is built; the combinations are about to run."""

    template: str
    matrix: Matrix
    steps: tuple[str, ...]


@dataclass(frozen=True)
class CombinationStarted:
    combination: Combination


@dataclass(frozen=True)
class StepFinished:
    combination: Combination
    step: GateResult


@dataclass(frozen=True)
class CombinationFinished:
    result: CombinationResult


Event = Planned | CombinationStarted | StepFinished | CombinationFinished
OnEvent = Callable[[Event], None]


@dataclass
class VerifyOptions:
    """What `apiforge verify` was asked to do."""

    template: str | None = None
    """A local folder or a git URL; None for apiforge's own template."""
    matrix: str = "default"
    data: Mapping[str, Any] = field(default_factory=dict)
    jobs: int = 1
    keep: bool = False
    """Keep the rendered projects (their folder is in the result)."""
    gates: Sequence[Gate] | None = None
    """The gates to run; None for :data:`apiforge.gates.GATES`."""
    from_ref: str | None = None
    """A commit or tag of the template's git repository: each combination is generated
    with that earlier version, given a resource, and updated to the template before its
    gates run."""
    ref: str | None = None
    """Verify the template as it is at this commit or tag of its repository."""
    shard: tuple[int, int] | None = None
    """``(k, n)``: run the k-th of n shares of the matrix (see :func:`shard_of`)."""
    strict: bool = False
    """A combination that cannot run here (its Python or PostgreSQL is missing) fails."""


@dataclass(frozen=True)
class VerifyResult:
    """Every combination's outcome, in matrix order."""

    template: str
    matrix: Matrix
    steps: tuple[str, ...]
    results: tuple[CombinationResult, ...]
    seconds: float
    kept: Path | None = None

    def count(self, status: Status) -> int:
        return sum(1 for result in self.results if result.status is status)

    @property
    def ok(self) -> bool:
        """True when no combination failed (skipped and invalid ones do not fail)."""
        return self.count(Status.FAILED) == 0


# --- One combination -------------------------------------------------------------


def verify_combination(
    combination: Combination,
    source: TemplateSource,
    workdir: Path,
    *,
    gates: Sequence[Gate] | None = None,
    postgres: Callable[[], PostgresServer] | None = None,
    on_event: OnEvent | None = None,
    cancellation: Cancellation | None = None,
    previous: Installed | None = None,
    strict: bool = False,
    environments: SharedEnvironments | None = None,
) -> CombinationResult:
    """Render *combination* below *workdir* and run its gates.

    *postgres* gives the server for PostgreSQL combinations (started on first
    use); a combination whose Python or PostgreSQL is missing is skipped, not
    failed. With *previous*, the project is rendered with that earlier version of
    the template, given a resource, and updated to *source* before the gates. With
    *environments*, the project installs into the environment it shares with every
    combination that renders the same `uv.lock`.
    """
    emit = on_event or _ignore
    chosen = gates_module.GATES if gates is None else gates

    def finish(result: CombinationResult) -> CombinationResult:
        if strict:
            result = _strict(result)
        emit(CombinationFinished(result))
        return result

    if combination.invalid is not None:
        return finish(CombinationResult(combination, Status.INVALID, reason=combination.invalid))
    context = combination.context
    python = None
    version = context.get("python_version")
    if version is not None:
        python = find_python(str(version))
        if python is None:
            reason = f"Python {version} is not installed"
            return finish(CombinationResult(combination, Status.SKIPPED, reason=reason))
    server = None
    if context.get("database") == "postgresql":
        try:
            if postgres is None:
                raise PostgresUnavailable("no PostgreSQL server was given")
            server = postgres()
        except PostgresUnavailable as exc:
            return finish(CombinationResult(combination, Status.SKIPPED, reason=str(exc)))
    if cancellation is not None:
        cancellation.check()

    emit(CombinationStarted(combination))
    started = time.perf_counter()
    steps: list[GateResult] = []
    extra: dict[str, str] = {}
    render_started = time.perf_counter()
    try:
        name = str(context.get("project_name") or "project")
        target = workdir / combination.id / name
        with _RENDER_LOCK:
            if previous is None:
                create_project(
                    NewOptions(target=target, data=combination.data, source=source, git=False)
                )
            else:
                _render_previous(previous, target, {"project_name": name, **combination.data})
        if server is not None:
            extra["DATABASE_URL"] = server.create_database(_database_name(combination))
    except Exception as exc:
        message = "".join(traceback.format_exception_only(exc)).strip()
        if isinstance(exc, ApiforgeError):
            message = str(exc)
        steps.append(GateResult(RENDER, False, time.perf_counter() - render_started, message, ""))
    else:
        steps.append(
            GateResult(RENDER, True, time.perf_counter() - render_started, "", "copier copy")
        )
    emit(StepFinished(combination, steps[0]))
    if steps[0].ok and previous is not None:
        steps.append(_update_to(target, previous, Installed(Path(source.location), "0.0.1")))
        emit(StepFinished(combination, steps[-1]))
    if all(step.ok for step in steps):
        steps += _run_gates(
            target,
            project_env(extra, python=python),
            chosen,
            environments,
            on_result=lambda step: emit(StepFinished(combination, step)),
            cancellation=cancellation,
        )
    expected = len(chosen) + (2 if previous is not None else 1)
    ok = all(step.ok for step in steps) and len(steps) == expected
    status = Status.PASSED if ok else Status.FAILED
    return finish(
        CombinationResult(combination, status, tuple(steps), time.perf_counter() - started)
    )


class SharedEnvironments:
    """One installed environment per distinct `uv.lock`, below *folder*.

    Combinations that differ only in answers that leave the lock file alone (the CI
    provider, the description) render the same `uv.lock`, and then install once: the
    first one installs, the others find the environment in sync. An environment is
    installed by one combination at a time.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._locks: dict[str, Lock] = {}
        self._guard = Lock()

    def for_project(self, project: Path) -> tuple[Path, Lock] | None:
        """The environment *project* installs into, and the lock held while installing;
        None when it has no lock file."""
        lock_file = project / "uv.lock"
        if not lock_file.is_file():
            return None
        key = hashlib.sha256(lock_file.read_bytes()).hexdigest()[:16]
        with self._guard:
            lock = self._locks.setdefault(key, Lock())
        return self.folder / key, lock


def _run_gates(
    project: Path,
    env: dict[str, str],
    gates: Sequence[Gate],
    environments: SharedEnvironments | None,
    *,
    on_result: Callable[[GateResult], None],
    cancellation: Cancellation | None,
) -> list[GateResult]:
    shared = environments.for_project(project) if environments is not None else None
    if shared is None:
        return gates_module.run_gates(
            project, env=env, gates=gates, on_result=on_result, cancellation=cancellation
        )
    folder, lock = shared
    env["UV_PROJECT_ENVIRONMENT"] = str(folder)
    install = [gate for gate in gates if gate.name == "install"]
    with lock:
        results = gates_module.run_gates(
            project, env=env, gates=install, on_result=on_result, cancellation=cancellation
        )
    if all(result.ok for result in results):
        others = [gate for gate in gates if gate.name != "install"]
        results += gates_module.run_gates(
            project, env=env, gates=others, on_result=on_result, cancellation=cancellation
        )
    return results


def _render_previous(previous: Installed, target: Path, data: Mapping[str, Any]) -> None:
    """A project as `apiforge new` makes it, from the earlier version of the template."""
    render_installed(previous, target, data)
    write_env(target)
    init_git(target)


PROBE_RESOURCE = ("gadget", ("title:str:80:unique", "quantity:int", "price:decimal?"))
"""The resource `verify --from` adds before updating, where the template renders resources."""


def _update_to(project: Path, previous: Installed, candidate: Installed) -> GateResult:
    """Add a resource with the earlier template, then update the project to *candidate*."""
    started = time.perf_counter()
    lines: list[str] = []
    try:
        with _RENDER_LOCK:
            if Template.load(previous.folder).question(RESOURCES_ANSWER) is not None:
                name, fields = PROBE_RESOURCE
                add_resource(
                    AddOptions(name=name, fields=fields, project=project, installed=previous)
                )
                lines.append(f"added the resource {name}")
            result = update_project(
                UpdateOptions(project=project, installed=candidate, check_drift=False)
            )
    except ApiforgeError as exc:
        lines.append(str(exc))
        return GateResult(UPDATE, False, time.perf_counter() - started, "\n".join(lines), "")
    findings = result.findings
    if findings.merge_revision is not None:
        lines.append(f"joined the migration heads with {findings.merge_revision}")
    if findings.lock is not None and findings.lock.regenerated:
        lines.append(f"locked uv.lock again from {findings.lock.source}")
    lines.append(f"{len(result.having(*_CHANGED))} files changed by the update")
    output = "\n".join(lines) + "\n"
    return GateResult(UPDATE, True, time.perf_counter() - started, output, "apiforge update")


_CHANGED = (Outcome.ADDED, Outcome.UPDATED, Outcome.MERGED, Outcome.REMOVED)


def _database_name(combination: Combination) -> str:
    return f"verify_{combination.id}_{secrets.token_hex(3)}"


def _ignore(_event: Event) -> None:
    return None


# --- A whole matrix --------------------------------------------------------------


class _LazyPostgres:
    """One throwaway server for the whole run, started when a combination needs it."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._stack = ExitStack()
        self._server: PostgresServer | None = None
        self._error: PostgresUnavailable | None = None

    def __call__(self) -> PostgresServer:
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._server is None:
                try:
                    self._server = self._stack.enter_context(throwaway_postgres())
                except PostgresUnavailable as exc:
                    self._error = exc
                    raise
            return self._server

    def close(self) -> None:
        with self._lock, suppress(Exception):
            self._stack.close()


def run_matrix(
    matrix: Matrix,
    source: TemplateSource,
    workdir: Path,
    *,
    gates: Sequence[Gate] | None = None,
    jobs: int = 1,
    on_event: OnEvent | None = None,
    previous: Installed | None = None,
    strict: bool = False,
) -> list[CombinationResult]:
    """Verify every combination of *matrix*, *jobs* at a time, in temporary folders.

    Results come back in matrix order. The PostgreSQL server is stopped before
    returning; on Ctrl-C the running commands are killed first and
    :class:`Interrupted` is raised.
    """
    chosen = gates_module.GATES if gates is None else gates
    check_tools(chosen)
    cancellation = Cancellation()
    postgres = _LazyPostgres()
    environments = SharedEnvironments(workdir / "_environments")
    executor = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="apiforge-verify")
    results: dict[int, CombinationResult] = {}
    try:
        futures: dict[Future[CombinationResult], Combination] = {
            executor.submit(
                verify_combination,
                combination,
                source,
                workdir,
                gates=chosen,
                postgres=postgres,
                on_event=on_event,
                cancellation=cancellation,
                previous=previous,
                strict=strict,
                environments=environments,
            ): combination
            for combination in matrix.combinations
        }
        for future in as_completed(futures):
            results[futures[future].index] = future.result()
    except KeyboardInterrupt:
        cancellation.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        raise Interrupted(_INTERRUPTED) from None
    except BaseException:
        cancellation.cancel()
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        postgres.close()
    return [results[combination.index] for combination in matrix.combinations]


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/4"`` as ``(2, 4)``; anything else is a usage error."""
    k, sep, n = text.partition("/")
    try:
        shard = (int(k), int(n))
    except ValueError:
        shard = (0, 0)
    if not sep or not 1 <= shard[0] <= shard[1]:
        raise UsageError(f"--shard takes K/N with 1 <= K <= N, e.g. 1/3; got {text!r}.")
    return shard


def shard_of(matrix: Matrix, shard: tuple[int, int] | None) -> Matrix:
    """The k-th of n shares of *matrix*: every n-th combination from the k-th, in matrix
    order, so that the n shards together hold each combination exactly once, on any
    machine. Ids (``c01``...) stay those of the whole matrix."""
    if shard is None:
        return matrix
    k, n = shard
    chosen = tuple(item for item in matrix.combinations if (item.index - 1) % n == k - 1)
    return replace(matrix, combinations=chosen)


def plan(options: VerifyOptions) -> Matrix:
    """The combinations `verify` would run with *options* (its shard only); runs nothing."""
    with Template.open(options.template, from_ref=options.from_ref, ref=options.ref) as template:
        pinned = template.check_answers(options.data)
        matrix = build_matrix(
            template.questions, options.matrix, data=pinned, env=template.environment()
        )
    return shard_of(matrix, options.shard)


def verify(options: VerifyOptions, on_event: OnEvent | None = None) -> VerifyResult:
    """Build the matrix of a template and verify every combination.

    Bad input (an unknown --data key, an unknown matrix, a template that cannot
    be read) raises :class:`UsageError` before anything runs.
    """
    emit = on_event or _ignore
    chosen = tuple(gates_module.GATES if options.gates is None else options.gates)
    started = time.perf_counter()
    with ExitStack() as stack:
        template = stack.enter_context(
            Template.open(options.template, from_ref=options.from_ref, ref=options.ref)
        )
        pinned = template.check_answers(options.data)
        matrix = build_matrix(
            template.questions, options.matrix, data=pinned, env=template.environment()
        )
        if not matrix.valid:
            reason = matrix.invalid[0].invalid if matrix.invalid else "no combination"
            raise UsageError(f"The template accepts none of these combinations ({reason}).")
        matrix = shard_of(matrix, options.shard)
        check_tools(chosen)
        previous = None  # with --from: renders as 0.0.0, then updates to the template as 0.0.1
        if template.previous is not None:
            previous = Installed(template.previous.folder, "0.0.0")
        updating = (UPDATE,) if previous is not None else ()
        steps = (RENDER, *updating, *(gate.name for gate in chosen))
        emit(Planned(template.name, matrix, steps))
        workdir = Path(tempfile.mkdtemp(prefix="apiforge-verify-"))
        if not options.keep:
            stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        results = run_matrix(
            matrix,
            template.source,
            workdir,
            gates=chosen,
            jobs=options.jobs,
            on_event=emit,
            previous=previous,
            strict=options.strict,
        )
    return VerifyResult(
        template=template.name,
        matrix=matrix,
        steps=steps,
        results=tuple(results),
        seconds=time.perf_counter() - started,
        kept=workdir if options.keep else None,
    )


def _strict(result: CombinationResult) -> CombinationResult:
    """Under ``--strict`` a combination that could not run here fails."""
    if result.status is not Status.SKIPPED:
        return result
    return replace(result, status=Status.FAILED, reason=f"{result.reason} (--strict)")
