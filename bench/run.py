"""Benchmark apiforge and the services it generates.

    uv run python bench/run.py                # every figure, about 6 minutes
    uv run python bench/run.py --quick        # fewer runs and shorter load, about 3 minutes
    uv run python bench/run.py --skip-load --skip-postgres
    uv run python bench/run.py --investigate  # also vary the service's settings, 10 more

It measures how fast the CLI answers, how long it takes from nothing to a green test
run, how long the generated test suite takes, and how a generated service holds up under
load (wrk, one uvicorn worker, 50 connections, on 127.0.0.1). Every figure is the median
of several runs; the runs, the targets and the machine go to a JSON file in
`bench/results/`. Nothing here asserts a timing: the benchmark reports, it does not fail.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import apiforge
from apiforge.gates import find_python, project_env
from apiforge.pgserver import PostgresUnavailable, find_pg_bin, throwaway_postgres

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"

DEFAULT_PYTHON = "3.11"  # the template's default `python_version`
PASSWORD = "bench-password-1234"  # the seeded users' password
ADMIN_EMAIL = "admin@example.com"
USER_EMAIL = "user@example.com"
USER_ROWS = 1_000
CONNECTIONS = 50
THREADS = 2

# Wide enough for the tables when the output goes to a file or a CI log.
console = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
errors = Console(stderr=True, highlight=False)


class BenchError(Exception):
    """A step failed; the message says which and shows the end of its output."""


# --- What a run does ------------------------------------------------------------

# cli: --help/--version latency; new: `apiforge new`; green: time to green;
# suite: the generated test suite; load: the service under wrk, and login latency.
PARTS = ("cli", "new", "green", "suite", "load")


@dataclass(frozen=True)
class Plan:
    """How many times each figure is measured, and for how long."""

    cli_runs: int
    new_runs: int
    green_runs: int
    suite_runs: int
    load_runs: int
    load_seconds: int
    warmup_seconds: int
    logins: int


FULL = Plan(
    cli_runs=20,
    new_runs=5,
    green_runs=3,
    suite_runs=3,
    load_runs=3,
    load_seconds=10,
    warmup_seconds=3,
    logins=20,
)
QUICK = Plan(
    cli_runs=10,
    new_runs=3,
    green_runs=1,
    suite_runs=2,
    load_runs=1,
    load_seconds=5,
    warmup_seconds=2,
    logins=10,
)


# --- Figures ---------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """A wall time measured several times; `limit` (seconds) is the target, if any."""

    key: str
    label: str
    runs: list[float]
    limit: float | None = None
    note: str = ""
    details: list[dict[str, float]] = field(default_factory=list)
    load_average: float = field(default_factory=lambda: os.getloadavg()[0])

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def passed(self) -> bool | None:
        return None if self.limit is None else self.median < self.limit

    @property
    def target(self) -> str:
        return "" if self.limit is None else f"< {seconds_text(self.limit)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": "s",
            "median": self.median,
            "max": max(self.runs),
            "runs": self.runs,
            "target": self.target or None,
            "passed": self.passed,
            "note": self.note or None,
            "details": self.details or None,
            "load_average": self.load_average,
        }


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run reported."""

    requests_per_s: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    socket_errors: int
    load_average: float
    # CPU time the service's processes used per request (user + system), where /proc
    # tells; unlike wall time it barely moves when other programs share the machine.
    server_cpu_ms: float | None = None

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0


@dataclass(frozen=True)
class LoadTarget:
    min_rps: float
    max_p99_ms: float

    @property
    def text(self) -> str:
        return f">= {self.min_rps:,.0f} req/s, p99 <= {self.max_p99_ms:.0f} ms"


@dataclass(frozen=True)
class Load:
    """One endpoint under load, measured several times against one running service."""

    key: str
    database: str
    label: str
    runs: list[WrkRun]
    target: LoadTarget | None = None
    settings: dict[str, str] = field(default_factory=dict)

    def median(self, name: str) -> float:
        return statistics.median(float(getattr(run, name)) for run in self.runs)

    @property
    def server_cpu_ms(self) -> float | None:
        measured = [run.server_cpu_ms for run in self.runs if run.server_cpu_ms is not None]
        return statistics.median(measured) if measured else None

    @property
    def clean(self) -> bool:
        return all(run.clean for run in self.runs)

    @property
    def passed(self) -> bool | None:
        if self.target is None:
            return None
        return (
            self.clean
            and self.median("requests_per_s") >= self.target.min_rps
            and self.median("p99_ms") <= self.target.max_p99_ms
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "database": self.database,
            "label": self.label,
            "connections": CONNECTIONS,
            "threads": THREADS,
            "median": {
                **{
                    name: self.median(name)
                    for name in ("requests_per_s", "p50_ms", "p75_ms", "p90_ms", "p99_ms")
                },
                "server_cpu_ms": self.server_cpu_ms,
            },
            "runs": [vars(run) for run in self.runs],
            "clean": self.clean,
            "target": self.target.text if self.target else None,
            "passed": self.passed,
            "settings": self.settings,
        }


@dataclass
class Report:
    """Everything measured so far; written as JSON even when the run stops early."""

    plan: Plan
    machine: dict[str, Any]
    timings: list[Timing] = field(default_factory=list)
    loads: list[Load] = field(default_factory=list)
    investigation: list[Load] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def to_json(self, *, complete: bool) -> dict[str, Any]:
        return {
            "command": " ".join(["uv run python bench/run.py", *sys.argv[1:]]),
            "started": self.started,
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
            "complete": complete,
            "plan": vars(self.plan),
            "machine": self.machine,
            "timings": [timing.to_json() for timing in self.timings],
            "load": [load.to_json() for load in self.loads],
            "investigation": [load.to_json() for load in self.investigation],
            "skipped": self.skipped,
            "failed": self.failed,
        }


# --- Processes -------------------------------------------------------------------


@dataclass(frozen=True)
class Completed:
    stdout: str
    seconds: float


def _kill_group(process: subprocess.Popen[Any], signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


def run(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float,
) -> Completed:
    """Run *command* in its own process group and time it from start to exit.

    A non-zero exit raises :class:`BenchError`. On a timeout, an error or Ctrl-C the
    whole group is killed, so nothing outlives the benchmark.
    """
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process, signal.SIGKILL)
        process.wait()
        raise BenchError(f"`{shown(command)}` took longer than {timeout:.0f} s") from None
    except BaseException:
        _kill_group(process, signal.SIGKILL)
        process.wait()
        raise
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        output = tail(stdout + stderr)
        raise BenchError(f"`{shown(command)}` failed ({process.returncode}):\n{output}")
    return Completed(stdout, seconds)


def shown(command: Sequence[str]) -> str:
    """The command as one line, with inline scripts (`python -c ...`) left out."""
    return " ".join("<script>" if "\n" in part else part for part in command)


def tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- Environments ----------------------------------------------------------------


class Workspace:
    """The run's temporary folder, the environments for apiforge and for generated projects.

    Child Pythons always cache bytecode, as they do on a developer's machine (some CI
    images turn it off with PYTHONDONTWRITEBYTECODE, which makes every start compile
    every module). apiforge's own bytecode goes to a cache inside the workspace, so the
    shared virtual environment is left as it was.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pycache = root / "pycache"
        self.apiforge = Path(sys.executable).parent / "apiforge"
        if not self.apiforge.is_file():
            raise BenchError(
                f"{self.apiforge} not found; run `uv sync` and then "
                "`uv run python bench/run.py` from the repository."
            )
        self.python = find_python(DEFAULT_PYTHON)
        self._count = 0

    def folder(self, prefix: str) -> Path:
        """A new, empty folder for one project or one run."""
        self._count += 1
        path = self.root / f"{prefix}{self._count}"
        path.mkdir()
        return path

    def apiforge_env(self, *, bytecode: bool = True) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.pycache)
        if not bytecode:
            # An empty cache that is never written: every module is compiled on each start.
            env["PYTHONPYCACHEPREFIX"] = str(self.root / "no-pycache")
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        return env

    def project_env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The environment of a user working in a generated project.

        apiforge's gates also byte-compile at install; a user's `uv sync` does so only
        when their own environment asks for it, so the benchmark follows theirs.
        """
        env = project_env(extra, python=self.python)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if "UV_COMPILE_BYTECODE" not in os.environ:
            env.pop("UV_COMPILE_BYTECODE", None)
        return env


# --- 1 and 2: the CLI ------------------------------------------------------------


def repeat(
    label: str,
    command: Sequence[str],
    *,
    runs: int,
    cwd: Path,
    env: Mapping[str, str],
    warmups: int = 1,
) -> list[float]:
    for _ in range(warmups):
        run(command, cwd=cwd, env=env, timeout=120)
    times = [run(command, cwd=cwd, env=env, timeout=120).seconds for _ in range(runs)]
    progress(f"{label}: median {seconds_text(statistics.median(times))}")
    return times


def bench_cli(ws: Workspace, plan: Plan, report: Report) -> None:
    section("CLI latency")
    env = ws.apiforge_env()
    cwd = ws.folder("cli")
    floor = repeat(
        "python -c pass", [sys.executable, "-c", "pass"], runs=plan.cli_runs, cwd=cwd, env=env
    )
    report.timings.append(
        Timing(
            "cli.python_floor",
            "python -c pass (startup floor)",
            floor,
            note="reference: the same interpreter doing nothing",
        )
    )
    for option, key in (("--help", "cli.help"), ("--version", "cli.version")):
        times = repeat(
            f"apiforge {option}",
            [str(ws.apiforge), option],
            runs=plan.cli_runs,
            cwd=cwd,
            env=env,
        )
        limit = 0.1 if option == "--help" else None
        report.timings.append(Timing(key, f"apiforge {option}", times, limit))
    cold = repeat(
        "apiforge --help, no bytecode cache",
        [str(ws.apiforge), "--help"],
        runs=plan.cli_runs,
        cwd=cwd,
        env=ws.apiforge_env(bytecode=False),
        warmups=0,
    )
    report.timings.append(
        Timing(
            "cli.help_no_bytecode",
            "apiforge --help, no bytecode cache",
            cold,
            note="PYTHONDONTWRITEBYTECODE=1 and an empty cache: every module compiled",
        )
    )


def new_command(ws: Workspace, target: Path, *extra: str) -> list[str]:
    return [str(ws.apiforge), "new", str(target), "--yes", "--no-git", *extra]


def bench_new(ws: Workspace, plan: Plan, report: Report) -> None:
    section("apiforge new")
    env = ws.apiforge_env()
    run(new_command(ws, ws.folder("new") / "warmup"), cwd=ws.root, env=env, timeout=120)
    times = []
    for _ in range(plan.new_runs):
        target = ws.folder("new") / "service"
        times.append(run(new_command(ws, target), cwd=ws.root, env=env, timeout=120).seconds)
    progress(f"apiforge new --yes --no-git: median {seconds_text(statistics.median(times))}")
    report.timings.append(Timing("new", "apiforge new --yes --no-git", times, 1.0))


# --- 3 and 4: from nothing to green, and the generated suite ---------------------


def create(ws: Workspace, database: str) -> Path:
    """Generate a project with default answers (and *database*) and install it."""
    project = ws.folder(f"{database}-") / "service"
    run(
        new_command(ws, project, "--database", database),
        cwd=ws.root,
        env=ws.apiforge_env(),
        timeout=120,
    )
    run(["uv", "sync", "--quiet"], cwd=project, env=ws.project_env(), timeout=900)
    return project


def bench_time_to_green(ws: Workspace, plan: Plan, report: Report) -> Path:
    """Time `apiforge new`, `uv sync` and `uv run pytest`; return the last project."""
    section("Time to green (SQLite)")
    progress("warming the uv cache (untimed)")
    warm = create(ws, "sqlite")
    run(["uv", "run", "pytest", "-q"], cwd=warm, env=ws.project_env(), timeout=600)
    shutil.rmtree(warm.parent)

    totals: list[float] = []
    details: list[dict[str, float]] = []
    project = warm
    for _ in range(plan.green_runs):
        project = ws.folder("green") / "service"
        steps = {
            "new": run(
                new_command(ws, project), cwd=ws.root, env=ws.apiforge_env(), timeout=120
            ).seconds,
            "uv_sync": run(["uv", "sync"], cwd=project, env=ws.project_env(), timeout=900).seconds,
            "pytest": run(
                ["uv", "run", "pytest"], cwd=project, env=ws.project_env(), timeout=600
            ).seconds,
        }
        totals.append(sum(steps.values()))
        details.append(steps)
        shown = ", ".join(f"{name} {seconds_text(value)}" for name, value in steps.items())
        progress(f"time to green {seconds_text(totals[-1])} ({shown})")
    report.timings.append(
        Timing(
            "time_to_green",
            "time to green: new + uv sync + uv run pytest",
            totals,
            15.0,
            note="warm uv cache; a fresh virtual environment each run",
            details=details,
        )
    )
    return project


def bench_suite(
    ws: Workspace,
    plan: Plan,
    report: Report,
    project: Path,
    database: str,
    extra: Mapping[str, str] | None = None,
) -> None:
    section(f"Generated test suite ({database_name(database)})")
    command = ["uv", "run", "pytest", "-q", "-p", "no:randomly"]
    times = repeat(
        f"uv run pytest ({database_name(database)})",
        command,
        runs=plan.suite_runs,
        cwd=project,
        env=ws.project_env(extra),
    )
    report.timings.append(
        Timing(
            f"suite.{database}",
            f"generated test suite, {database_name(database)}",
            times,
            5.0 if database == "sqlite" else None,
            note="uv run pytest -q -p no:randomly, after one warm-up run",
        )
    )


# --- 5: the service under load ---------------------------------------------------

SEED_SCRIPT = """
import asyncio
import os

from src.core.security import hash_password
from src.db.models import User
from src.db.session import SessionLocal, engine


async def seed() -> None:
    # One hash at the service's default argon2 parameters, shared by every row.
    hashed = await hash_password(os.environ["BENCH_PASSWORD"])
    users = [
        User(email=os.environ["BENCH_ADMIN"], hashed_password=hashed, is_superuser=True),
        User(email=os.environ["BENCH_USER"], hashed_password=hashed, full_name="Bench User"),
    ]
    rows = int(os.environ["BENCH_ROWS"])
    users += [
        User(email=f"user{n:04d}@example.com", hashed_password=hashed, full_name=f"User {n}")
        for n in range(rows - len(users))
    ]
    async with SessionLocal() as session:
        session.add_all(users)
        await session.commit()
    await engine.dispose()


asyncio.run(seed())
"""

# The scripts below serve on 127.0.0.1 with `python -c SCRIPT PORT LOOP HTTP [FLAGS]`
# inside the generated project; --investigate uses them.

# The generated service with changes that settings cannot express.
PATCHED_SERVICE = """
import asyncio
import gc
import sys

import uvicorn

import src.db.session

port, loop, http_parser, *flags = sys.argv[1:]
if "gate-off" in flags:
    src.db.session.checkout_gate = asyncio.Semaphore(1_000_000)

from src.main import app

if "gc-freeze" in flags:
    gc.collect()
    gc.freeze()
uvicorn.run(app, host="127.0.0.1", port=int(port), access_log=False, log_level="warning",
            loop=loop, http=http_parser)
"""

# For scale: the same lookup in a minimal FastAPI app, through the ORM without a gate,
# and through the raw driver. Both use the project's token decoding and settings.
REFERENCE_ORM = """
import sys
import uuid
from typing import Annotated

import uvicorn
from fastapi import Depends, FastAPI, Header, HTTPException
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from src.core.config import get_settings
from src.core.security import decode_access_token
from src.db.models import User
from src.schemas.user import UserRead

engine = create_async_engine(get_settings().database_url, pool_size=10, max_overflow=5)
sessions = async_sessionmaker(engine, expire_on_commit=False)
app = FastAPI()


async def get_db():
    async with sessions() as session:
        yield session


@app.get("/api/users/me")
async def me(authorization: Annotated[str, Header()], session=Depends(get_db)) -> UserRead:
    user_id = decode_access_token(authorization.removeprefix("Bearer "))
    user = await session.get(User, user_id) if user_id else None
    if user is None:
        raise HTTPException(401)
    return UserRead.model_validate(user)


port, loop, http_parser = sys.argv[1:4]
uvicorn.run(app, host="127.0.0.1", port=int(port), access_log=False, log_level="warning",
            loop=loop, http=http_parser)
"""

REFERENCE_RAW = """
import sys
from contextlib import asynccontextmanager
from typing import Annotated

import asyncpg
import uvicorn
from fastapi import FastAPI, Header, HTTPException

from src.core.config import get_settings
from src.core.security import decode_access_token

pools = []


@asynccontextmanager
async def lifespan(app):
    dsn = get_settings().database_url.replace("postgresql+asyncpg://", "postgresql://")
    pools.append(await asyncpg.create_pool(dsn, min_size=10, max_size=10))
    yield
    await pools[0].close()


app = FastAPI(lifespan=lifespan)
QUERY = (
    "SELECT id, email, full_name, is_active, is_superuser, created_at, updated_at "
    "FROM users WHERE id = $1"
)


@app.get("/api/users/me")
async def me(authorization: Annotated[str, Header()]) -> dict[str, object]:
    user_id = decode_access_token(authorization.removeprefix("Bearer "))
    row = await pools[0].fetchrow(QUERY, user_id) if user_id else None
    if row is None:
        raise HTTPException(401)
    return dict(row)


port, loop, http_parser = sys.argv[1:4]
uvicorn.run(app, host="127.0.0.1", port=int(port), access_log=False, log_level="warning",
            loop=loop, http=http_parser)
"""

SCRIPTS = {
    "patched": PATCHED_SERVICE,
    "reference-orm": REFERENCE_ORM,
    "reference-raw": REFERENCE_RAW,
}


@dataclass(frozen=True)
class Endpoint:
    key: str
    label: str
    path: str
    as_user: str | None


ENDPOINTS = (
    Endpoint("health", "GET /api/health", "/api/health", None),
    Endpoint("users_me", "GET /api/users/me", "/api/users/me", USER_EMAIL),
    Endpoint("users_list", "GET /api/users?limit=50", "/api/users?limit=50", ADMIN_EMAIL),
)
USERS_ME_TARGET = LoadTarget(min_rps=1_500, max_p99_ms=60)


@dataclass(frozen=True)
class ServerOptions:
    """How the service is started: extra settings, event loop, HTTP parser, script.

    Without a script it is the generated service under `uvicorn src.main:app`;
    otherwise one of SCRIPTS, given *flags*.
    """

    settings: Mapping[str, str] = field(default_factory=dict)
    loop: str = "auto"
    http: str = "auto"
    script: str | None = None
    flags: tuple[str, ...] = ()

    def describe(self) -> dict[str, str]:
        described = {**self.settings, "loop": self.loop, "http": self.http}
        if self.script:
            described["script"] = " ".join((self.script, *self.flags))
        return described


@dataclass(frozen=True)
class Running:
    """A started service: its base URL and its process group."""

    url: str
    group: int

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) the group's live processes have used, on Linux."""
        proc = Path("/proc")
        if not proc.is_dir():
            return None
        ticks = 0
        for stat in proc.glob("[0-9]*/stat"):
            try:
                # Fields after the command name: state, ppid, pgrp, ... utime (14), stime (15).
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == self.group:
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")


class Service:
    """A migrated, seeded generated project and the settings it is served with."""

    def __init__(self, ws: Workspace, project: Path, database: str, database_url: str) -> None:
        self.ws = ws
        self.project = project
        self.database = database
        self.settings = {
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": database_url,
            # "Access log off": the service's own per-request log line included.
            "LOG_LEVEL": "WARNING",
            # Long enough for every load run of the benchmark.
            "ACCESS_TOKEN_EXPIRE_MINUTES": "1440",
        }
        packages = self._packages()
        self.loop = "uvloop" if "uvloop" in packages else "asyncio"
        self.http = "httptools" if "httptools" in packages else "h11"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return self.ws.project_env({**self.settings, **(extra or {})})

    def _packages(self) -> set[str]:
        listed = run(
            ["uv", "pip", "list", "--format", "json", "--python", ".venv"],
            cwd=self.project,
            env=self.env(),
            timeout=120,
        )
        return {package["name"].lower() for package in json.loads(listed.stdout)}

    def prepare(self) -> None:
        """Migrate and insert USER_ROWS users: an admin, a user and the rest."""
        run(
            ["uv", "run", "--no-sync", "alembic", "upgrade", "head"],
            cwd=self.project,
            env=self.env(),
            timeout=300,
        )
        seed_env = {
            "BENCH_PASSWORD": PASSWORD,
            "BENCH_ADMIN": ADMIN_EMAIL,
            "BENCH_USER": USER_EMAIL,
            "BENCH_ROWS": str(USER_ROWS),
        }
        run(
            ["uv", "run", "--no-sync", "python", "-c", SEED_SCRIPT],
            cwd=self.project,
            env=self.env(seed_env),
            timeout=300,
        )

    def default_options(self) -> ServerOptions:
        return ServerOptions(loop=self.loop, http=self.http)

    @contextlib.contextmanager
    def serve(
        self, options: ServerOptions, *, probe: str = "/api/health", token: str | None = None
    ) -> Iterator[Running]:
        """Start one uvicorn worker on 127.0.0.1; yield it; stop it afterwards.

        It is up once *probe* answers 200 (sent with *token*, if any).
        """
        port = free_port()
        if options.script:
            script = SCRIPTS[options.script]
            command = ["python", "-c", script, str(port), options.loop, options.http]
            command += options.flags
        else:
            command = [
                "uvicorn",
                "src.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
                "--no-access-log",
                "--log-level",
                "warning",
                "--loop",
                options.loop,
                "--http",
                options.http,
            ]
        log_path = self.ws.folder("server") / "server.log"
        with log_path.open("w", encoding="utf-8") as log:
            process = subprocess.Popen(
                ["uv", "run", "--no-sync", *command],
                cwd=self.project,
                env=self.env(options.settings),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base + probe, token, process, log_path)
            yield Running(base, process.pid)
        finally:
            stop(process)


def wait_until_up(url: str, token: str | None, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the service exited ({process.returncode}):\n{tail(log.read_text())}")
        with contextlib.suppress(OSError, ValueError):
            status, _ = http("GET", url, token=token)
            if status == 200:
                return
        time.sleep(0.1)
    raise BenchError(f"the service did not answer within 60 s:\n{tail(log.read_text())}")


def stop(process: subprocess.Popen[bytes]) -> None:
    _kill_group(process, signal.SIGTERM)
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        _kill_group(process, signal.SIGKILL)
        process.wait()


def http(
    method: str,
    url: str,
    *,
    form: Mapping[str, str] | None = None,
    token: str | None = None,
) -> tuple[int, Any]:
    """Send one request; return the status and the decoded JSON body (None if empty)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
            status: int = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(), exc.code
    return status, json.loads(body) if body else None


def login(base: str, email: str) -> tuple[str, float]:
    """Log in through the API; return the access token and the request's latency."""
    started = time.perf_counter()
    status, body = http(
        "POST", f"{base}/api/auth/token", form={"username": email, "password": PASSWORD}
    )
    seconds = time.perf_counter() - started
    if status != 200:
        raise BenchError(f"login as {email} answered {status}: {body}")
    token: str = body["access_token"]
    return token, seconds


def check_endpoints(base: str, tokens: Mapping[str, str]) -> None:
    """Each endpoint answers 200 as the benchmark will call it; the list has every row."""
    for endpoint in ENDPOINTS:
        token = tokens[endpoint.as_user] if endpoint.as_user else None
        status, body = http("GET", base + endpoint.path, token=token)
        if status != 200:
            raise BenchError(f"{endpoint.label} answered {status}: {body}")
        if endpoint.key == "users_list" and (body["total"], len(body["items"])) != (USER_ROWS, 50):
            raise BenchError(f"{endpoint.label}: expected {USER_ROWS} rows, 50 per page: {body}")


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def parse_wrk(output: str, load_average: float) -> WrkRun:
    """Read requests/s, the latency percentiles and the error counts from wrk's report."""
    percentiles = {
        int(match[1]): float(match[2]) * _WRK_UNITS[match[3]]
        for match in re.finditer(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", output, re.M)
    }
    rate = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    if rate is None or total is None or len(percentiles) != 4:
        raise BenchError(f"could not read wrk's report:\n{tail(output)}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return WrkRun(
        requests_per_s=float(rate[1]),
        p50_ms=percentiles[50],
        p75_ms=percentiles[75],
        p90_ms=percentiles[90],
        p99_ms=percentiles[99],
        requests=int(total[1]),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=sum(int(count) for count in sockets.groups()) if sockets else 0,
        load_average=load_average,
    )


def wrk(server: Running, path: str, *, seconds: int, token: str | None) -> WrkRun:
    command = [
        "wrk",
        f"-t{THREADS}",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    load_average = os.getloadavg()[0]
    cpu_before = server.cpu_seconds()
    completed = run(
        [*command, server.url + path], cwd=Path.cwd(), env=os.environ, timeout=seconds + 60
    )
    cpu_after = server.cpu_seconds()
    result = parse_wrk(completed.stdout, load_average)
    if cpu_before is None or cpu_after is None or not result.requests:
        return result
    cpu_ms = (cpu_after - cpu_before) * 1000 / result.requests
    return dataclasses.replace(result, server_cpu_ms=round(cpu_ms, 3))


def load_endpoint(
    server: Running, endpoint: Endpoint, tokens: Mapping[str, str], plan: Plan, *, runs: int
) -> list[WrkRun]:
    """A warm-up, then *runs* measured wrk runs against *endpoint*."""
    token = tokens[endpoint.as_user] if endpoint.as_user else None
    wrk(server, endpoint.path, seconds=plan.warmup_seconds, token=token)
    return [wrk(server, endpoint.path, seconds=plan.load_seconds, token=token) for _ in range(runs)]


def sign_in(base: str) -> dict[str, str]:
    tokens = {email: login(base, email)[0] for email in (ADMIN_EMAIL, USER_EMAIL)}
    check_endpoints(base, tokens)
    return tokens


def bench_service(service: Service, plan: Plan, report: Report) -> None:
    name = database_name(service.database)
    section(f"Service under load ({name})")
    service.prepare()
    options = service.default_options()
    progress(f"uvicorn, 1 worker, --loop {options.loop} --http {options.http}")
    with service.serve(options) as server:
        tokens = sign_in(server.url)
        logins = [login(server.url, USER_EMAIL)[1] for _ in range(plan.logins)]
        progress(
            f"login: median {seconds_text(statistics.median(logins))}, "
            f"max {seconds_text(max(logins))}"
        )
        report.timings.append(
            Timing(
                f"login.{service.database}",
                f"login (POST /api/auth/token), {name}",
                logins,
                0.3,
                note="sequential, default argon2 parameters",
            )
        )
        for endpoint in ENDPOINTS:
            runs = load_endpoint(server, endpoint, tokens, plan, runs=plan.load_runs)
            target = (
                USERS_ME_TARGET
                if (service.database, endpoint.key) == ("postgresql", "users_me")
                else None
            )
            load = Load(
                f"load.{service.database}.{endpoint.key}",
                service.database,
                endpoint.label,
                runs,
                target,
                options.describe(),
            )
            progress(load_summary(load))
            report.loads.append(load)


@dataclass(frozen=True)
class Variant:
    label: str
    settings: Mapping[str, str] = field(default_factory=dict)
    loop: str | None = None
    http: str | None = None
    script: str | None = None
    flags: tuple[str, ...] = ()


# Where the time of `GET /api/users/me` on PostgreSQL goes: one change at a time against
# the defaults, then two reference apps doing the same lookup.
VARIANTS = (
    Variant("defaults: pool 10 + 5 overflow, gate 10, pre-ping"),
    Variant("gate off: 50 requests contend for the pool", script="patched", flags=("gate-off",)),
    Variant("DB_MAX_CONCURRENCY=5", {"DB_MAX_CONCURRENCY": "5"}),
    Variant("DB_MAX_CONCURRENCY=2", {"DB_MAX_CONCURRENCY": "2"}),
    Variant(
        "DB_POOL_SIZE=50, DB_MAX_CONCURRENCY=50", {"DB_POOL_SIZE": "50", "DB_MAX_CONCURRENCY": "50"}
    ),
    Variant("DB_POOL_PRE_PING=false", {"DB_POOL_PRE_PING": "false"}),
    Variant(
        "DB_POOL_PRE_PING=false, DB_MAX_CONCURRENCY=5",
        {"DB_POOL_PRE_PING": "false", "DB_MAX_CONCURRENCY": "5"},
    ),
    Variant("LOG_LEVEL=INFO (one log line per request)", {"LOG_LEVEL": "INFO"}),
    Variant("asyncio loop and h11 instead of uvloop and httptools", loop="asyncio", http="h11"),
    Variant("gc.freeze() after start-up", script="patched", flags=("gc-freeze",)),
    Variant("reference: minimal FastAPI + SQLAlchemy ORM, no gate", script="reference-orm"),
    Variant("reference: minimal FastAPI + raw asyncpg pool of 10", script="reference-raw"),
)


def bench_variants(service: Service, plan: Plan, report: Report) -> None:
    """Load `GET /api/users/me` under each variant, in rounds.

    Each round starts every variant afresh and measures it once, so a machine that gets
    busier or quieter during the run shifts every variant alike.
    """
    section("GET /api/users/me on PostgreSQL: one change at a time")
    endpoint = next(endpoint for endpoint in ENDPOINTS if endpoint.key == "users_me")
    with service.serve(service.default_options()) as server:
        tokens = sign_in(server.url)
    options = [
        ServerOptions(
            settings=variant.settings,
            loop=variant.loop or service.loop,
            http=variant.http or service.http,
            script=variant.script,
            flags=variant.flags,
        )
        for variant in VARIANTS
    ]
    runs: list[list[WrkRun]] = [[] for _ in VARIANTS]
    for round_number in range(1, plan.load_runs + 1):
        progress(f"round {round_number} of {plan.load_runs}")
        for variant, option, measured in zip(VARIANTS, options, runs, strict=True):
            probe = {"probe": endpoint.path, "token": tokens[USER_EMAIL]}
            with service.serve(option, **probe) as server:
                measured += load_endpoint(server, endpoint, tokens, plan, runs=1)
            progress(f"  {variant.label}: {run_summary(measured[-1])}")
    for variant, option, measured in zip(VARIANTS, options, runs, strict=True):
        report.investigation.append(
            Load(
                "investigate.postgresql.users_me",
                service.database,
                variant.label,
                measured,
                USERS_ME_TARGET,
                option.describe(),
            )
        )


# --- Tools and the machine -------------------------------------------------------


def ensure_wrk() -> bool:
    """True when wrk is available, installing Debian's package when running as root."""
    if shutil.which("wrk"):
        return True
    apt = shutil.which("apt-get")
    if os.geteuid() == 0 and apt:
        progress("wrk is missing; installing it with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        with contextlib.suppress(BenchError):
            run([apt, "update", "-qq"], cwd=Path("/"), env=env, timeout=600)
            run([apt, "install", "-y", "-qq", "wrk"], cwd=Path("/"), env=env, timeout=600)
        if shutil.which("wrk"):
            return True
    errors.print(
        "[yellow]wrk is not installed; install it with `apt-get install wrk` "
        "(or `brew install wrk`). Skipping the load figures.[/]"
    )
    return False


def first_line(command: Sequence[str]) -> str | None:
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0] if lines else None


def python_loop_ms() -> float:
    """Milliseconds for a fixed pure-Python loop (median of 5).

    Taken at the start and at the end of a run: it compares machines, and shows when
    the machine got slower during the run because something else was using it.
    """
    times = []
    for _ in range(5):
        started = time.perf_counter()
        sum(number * number for number in range(300_000))
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 1)


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "memory_gib": None,
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "apiforge": apiforge.__version__,
        "commit": first_line(["git", "-C", str(REPO), "describe", "--always", "--dirty"]),
        "uv": first_line(["uv", "--version"]),
        "wrk": first_line(["wrk", "--version"]) if shutil.which("wrk") else None,
        "postgresql": None,
        "load_average": os.getloadavg()[0],
        "python_loop_ms": python_loop_ms(),
    }
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024**2, 1)
                break
    with contextlib.suppress(OSError):
        release = Path("/etc/os-release").read_text()
        if found := re.search(r'^PRETTY_NAME="?([^"\n]*)"?', release, re.M):
            info["os"] = f"{found[1]} ({platform.platform()})"
    bin_dir = find_pg_bin()
    if bin_dir is not None:
        info["postgresql"] = first_line([str(bin_dir / "postgres"), "--version"])
    return info


# --- Output ----------------------------------------------------------------------


def database_name(database: str) -> str:
    return {"sqlite": "SQLite", "postgresql": "PostgreSQL"}.get(database, database)


def seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def mark(passed: bool | None) -> str:
    if passed is None:
        return ""
    return "[green]pass[/]" if passed else "[red]miss[/]"


def section(title: str) -> None:
    console.rule(f"[bold]{title}")


def progress(message: str) -> None:
    console.print(f"  {message}")


def run_summary(run: WrkRun) -> str:
    summary = f"{run.requests_per_s:,.0f} req/s, p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms"
    if run.server_cpu_ms is not None:
        summary += f", {run.server_cpu_ms:.2f} ms CPU per request"
    return summary


def load_summary(load: Load) -> str:
    summary = (
        f"{load.label}: {load.median('requests_per_s'):,.0f} req/s, "
        f"p50 {load.median('p50_ms'):.1f} ms, p99 {load.median('p99_ms'):.1f} ms"
    )
    if load.server_cpu_ms is not None:
        summary += f", {load.server_cpu_ms:.2f} ms CPU per request"
    if not load.clean:
        summary += " [red](errors: see the JSON)[/]"
    return summary


def timing_table(timings: Sequence[Timing]) -> Table:
    table = Table(title="Timings (median of the runs)")
    table.add_column("Figure")
    table.add_column("Median", justify="right")
    table.add_column("Runs (min-max)")
    table.add_column("Target")
    table.add_column("")
    for timing in timings:
        table.add_row(
            timing.label,
            seconds_text(timing.median),
            f"{len(timing.runs)} ({seconds_text(min(timing.runs))}-"
            f"{seconds_text(max(timing.runs))})",
            timing.target,
            mark(timing.passed),
        )
    return table


def load_table(title: str, loads: Sequence[Load], *, variants: bool) -> Table:
    """The load figures; *variants* lists the investigation's variants instead of endpoints."""
    table = Table(title=title)
    if variants:
        table.add_column("Variant")
    else:
        table.add_column("Database")
        table.add_column("Endpoint")
    for column in ("req/s", "p50", "p99", "CPU/req"):
        table.add_column(column, justify="right")
    if not variants:
        table.add_column("Target")
    table.add_column("")
    for load in loads:
        cpu = load.server_cpu_ms
        figures = [
            f"{load.median('requests_per_s'):,.0f}",
            f"{load.median('p50_ms'):.1f} ms",
            f"{load.median('p99_ms'):.1f} ms",
            "" if cpu is None else f"{cpu:.2f} ms",
        ]
        result = mark(load.passed) if load.clean else "[red]errors[/]"
        if variants:
            table.add_row(load.label, *figures, result)
        else:
            target = load.target.text if load.target else ""
            table.add_row(database_name(load.database), load.label, *figures, target, result)
    return table


def print_tables(report: Report) -> None:
    info = report.machine
    console.print(
        f"\n[bold]apiforge {info['apiforge']}[/] ({info['commit']}) on {info['cpu']}, "
        f"{info['cores']} cores, {info['memory_gib']} GiB, {info['os']}, {info['python']}"
    )
    console.print(
        f"Pure-Python loop {info['python_loop_ms']} ms at the start, "
        f"{info.get('python_loop_ms_end')} ms at the end; load average "
        f"{info['load_average']:.2f} at the start, {info.get('load_average_end', 0):.2f} at the end"
    )
    if report.timings:
        console.print(timing_table(report.timings))
    if report.loads:
        title = f"Under load: wrk -t{THREADS} -c{CONNECTIONS}, one uvicorn worker (medians)"
        console.print(load_table(title, report.loads, variants=False))
    if report.investigation:
        title = (
            f"GET /api/users/me on PostgreSQL, one change at a time (target {USERS_ME_TARGET.text})"
        )
        console.print(load_table(title, report.investigation, variants=True))
    for reason in report.skipped:
        console.print(f"[yellow]skipped:[/] {reason}")
    for reason in report.failed:
        console.print(f"[red]failed:[/] {reason}")


# --- Main ------------------------------------------------------------------------


@contextlib.contextmanager
def attempt(report: Report, what: str) -> Iterator[None]:
    """Run one part of the benchmark; a failure is recorded and the rest still runs."""
    try:
        yield
    except (BenchError, PostgresUnavailable) as exc:
        errors.print(f"[red]{what} failed:[/] {exc}")
        report.failed.append(f"{what}: {str(exc).splitlines()[0]}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark apiforge and a service it generates; print a table, write JSON.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer runs and shorter load")
    parser.add_argument("--skip-load", action="store_true", help="leave out the load figures")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite figures only")
    parser.add_argument(
        "--investigate",
        action="store_true",
        help="also load GET /api/users/me on PostgreSQL under varied settings",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=PARTS,
        help="measure only this part (repeatable): cli, new, green (time to green), "
        "suite (generated tests), load",
    )
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="where to write the results (default: bench/results/<timestamp>.json)",
    )
    return parser.parse_args(argv)


def bench_postgres(
    ws: Workspace, plan: Plan, report: Report, parts: set[str], *, investigate: bool
) -> None:
    with throwaway_postgres() as server:
        project = create(ws, "postgresql")
        if "suite" in parts:
            # The suite creates and uses "suite_test" on the same server.
            suite = {"DATABASE_URL": server.url("suite")}
            bench_suite(ws, plan, report, project, "postgresql", suite)
        if "load" in parts:
            service = Service(ws, project, "postgresql", server.create_database("bench"))
            bench_service(service, plan, report)
            if investigate:
                bench_variants(service, plan, report)


def bench_all(
    ws: Workspace, plan: Plan, report: Report, parts: set[str], *, postgres: bool, investigate: bool
) -> None:
    if "cli" in parts:
        with attempt(report, "CLI latency"):
            bench_cli(ws, plan, report)
    if "new" in parts:
        with attempt(report, "apiforge new"):
            bench_new(ws, plan, report)
    sqlite_project: Path | None = None
    if "green" in parts:
        with attempt(report, "time to green"):
            sqlite_project = bench_time_to_green(ws, plan, report)
    if not parts & {"suite", "load"}:
        return
    if sqlite_project is None:
        with attempt(report, "generating the SQLite project"):
            sqlite_project = create(ws, "sqlite")
    if sqlite_project is not None and "suite" in parts:
        with attempt(report, "generated suite on SQLite"):
            bench_suite(ws, plan, report, sqlite_project, "sqlite")
    if sqlite_project is not None and "load" in parts:
        with attempt(report, "load on SQLite"):
            url = f"sqlite+aiosqlite:///{ws.folder('db') / 'bench.db'}"
            bench_service(Service(ws, sqlite_project, "sqlite", url), plan, report)
    if postgres:
        with attempt(report, "PostgreSQL figures"):
            bench_postgres(ws, plan, report, parts, investigate=investigate)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    # Ctrl-C and `kill` both stop the run cleanly: services and servers are stopped and the
    # results so far are written (also when a shell started the run with SIGINT ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    args = parse_args(argv)
    plan = QUICK if args.quick else FULL
    output: Path = args.json or RESULTS / f"{datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    parts = set(args.only or PARTS)
    report = Report(plan, machine())
    if args.skip_load:
        parts.discard("load")
        report.skipped.append("load figures: --skip-load")
    elif "load" in parts and not ensure_wrk():
        parts.discard("load")
        report.skipped.append("load figures: wrk is not installed (apt-get install wrk)")
    if args.skip_postgres:
        report.skipped.append("PostgreSQL figures: --skip-postgres")

    complete = False
    try:
        with tempfile.TemporaryDirectory(prefix="apiforge-bench-") as tmp:
            ws = Workspace(Path(tmp))
            if ws.python is None:
                progress(f"Python {DEFAULT_PYTHON} not found; uv picks the interpreter")
            # The interpreter of the generated projects.
            report.machine["service_python"] = ws.python and first_line([ws.python, "--version"])
            bench_all(
                ws,
                plan,
                report,
                parts,
                postgres=not args.skip_postgres,
                investigate=args.investigate,
            )
        complete = True
    except KeyboardInterrupt:
        errors.print("[yellow]Interrupted; the results so far are kept.[/]")
    finally:
        report.machine["python_loop_ms_end"] = python_loop_ms()
        report.machine["load_average_end"] = os.getloadavg()[0]
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report.to_json(complete=complete), indent=2) + "\n")
        print_tables(report)
        console.print(f"\nResults: {output}")
    if not complete:
        return 130
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
