"""A generated service: migrated, seeded, and served by one uvicorn worker on 127.0.0.1."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from apiforge import processes
from bench.api import ADMIN_EMAIL, PASSWORD, USER_EMAIL, USER_ROWS, http
from bench.commands import BenchError, run, tail
from bench.workspace import Workspace

# bench/apps/, copied into the project as the package `bench_apps` and run from there.
APPS = Path(__file__).resolve().parent / "apps"
APPS_PACKAGE = "bench_apps"

# The servers ServerOptions.script can name in the generated project, and the module of
# bench/apps/ each runs (fastapi_users_app runs elsewhere: bench/references.py).
SCRIPTS = {
    "patched": "patched_service",
    "reference-orm": "reference_orm",
    "reference-raw": "reference_raw",
}


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

    def command(self, port: int) -> list[str]:
        """The command, run with `uv run --no-sync` in the project, that serves on *port*."""
        if self.script:
            module = f"{APPS_PACKAGE}.{SCRIPTS[self.script]}"
            return ["python", "-m", module, str(port), self.loop, self.http, *self.flags]
        return [
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
            self.loop,
            "--http",
            self.http,
        ]


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
            # The default log level: one JSON line per request, with its id, goes to the
            # server's log file as it would to a log collector (uvicorn's access log is
            # off by default in the service: its own line replaces it).
            "LOG_FORMAT": "json",
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
        """Copy bench/apps/ in, migrate, and insert USER_ROWS users: an admin, a user, the rest."""
        shutil.copytree(
            APPS,
            self.project / APPS_PACKAGE,
            ignore=shutil.ignore_patterns("__pycache__"),
            dirs_exist_ok=True,
        )
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
            ["uv", "run", "--no-sync", "python", "-m", f"{APPS_PACKAGE}.seed"],
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
        port = processes.free_port()
        command = ["uv", "run", "--no-sync", *options.command(port)]
        env = self.env(options.settings)
        with serve_command(self.ws, command, self.project, env, port, probe, token) as server:
            yield server


@contextlib.contextmanager
def serve_command(
    ws: Workspace,
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    port: int,
    probe: str,
    token: str | None = None,
) -> Iterator[Running]:
    """Run *command*, a server listening on 127.0.0.1:*port*, in its own process group;
    yield it once *probe* answers 200 (sent with *token*); stop the group afterwards."""
    log_path = ws.folder("server") / "server.log"
    with log_path.open("w", encoding="utf-8") as log:
        process = processes.start(
            list(command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base + probe, token, process, log_path)
        yield Running(base, process.pid)
    finally:
        processes.stop([process], grace=10)


def wait_until_up(url: str, token: str | None, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 60
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"the service exited ({process.returncode}):\n{tail(log.read_text())}")
        try:
            status, _ = http("GET", url, token=token)
        except (OSError, ValueError) as exc:
            last = f"{type(exc).__name__}: {exc}"
        else:
            if status == 200:
                return
            last = f"status {status}"
        time.sleep(0.1)
    raise BenchError(
        f"the service did not answer {url} with 200 within 60 s ({last}):\n{tail(log.read_text())}"
    )
