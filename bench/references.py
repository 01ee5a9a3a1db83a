"""The fastapi-users reference app: its own environment, database, user and token.

The raw reference (`bench/apps/reference_raw.py`) runs in the generated project, as a
second server over the same database; fastapi-users must not be installed there, so it
gets a virtual environment of its own under the run's workspace, made with uv from PyPI,
and a database of its own on the same throwaway PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

from apiforge import processes
from bench.api import PASSWORD, USER_EMAIL, USERS_ME, http, login
from bench.commands import BenchError, run
from bench.service import APPS, APPS_PACKAGE, Running, serve_command
from bench.workspace import DEFAULT_PYTHON, Workspace

# What the documentation's SQLAlchemy example installs, with PostgreSQL's driver instead of
# aiosqlite; uvicorn[standard] brings uvloop and httptools, as the generated project has.
REQUIREMENTS = ("fastapi-users[sqlalchemy]", "asyncpg", "uvicorn[standard]")
# The packages whose versions go into the results.
RECORDED = (
    *("fastapi-users", "fastapi-users-db-sqlalchemy", "fastapi", "sqlalchemy", "asyncpg"),
    *("pydantic", "pyjwt", "pwdlib", "uvicorn", "uvloop", "httptools"),
)
MODULE = f"{APPS_PACKAGE}.fastapi_users_app"
LOGIN_PATH = "/api/auth/jwt/login"
# The app has no health route; its OpenAPI document is JSON, which the start-up probe reads.
PROBE = "/openapi.json"


class FastapiUsersApp:
    """fastapi-users as its documentation sets it up, against *database_url*."""

    def __init__(self, ws: Workspace, database_url: str) -> None:
        self.ws = ws
        self.folder = ws.folder("fastapi-users")
        self.venv = self.folder / ".venv"
        self.settings = {"DATABASE_URL": database_url, "SECRET": secrets.token_urlsafe(48)}
        self.versions: dict[str, str] = {}

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self) -> dict[str, str]:
        return self.ws.project_env(self.settings)

    def prepare(self) -> None:
        """Create the environment, install from PyPI, create the tables and the user."""
        python = self.ws.python or DEFAULT_PYTHON
        env = self.env()
        run(
            ["uv", "venv", "--quiet", "--python", python, str(self.venv)],
            cwd=self.folder,
            env=env,
            timeout=300,
        )
        run(
            ["uv", "pip", "install", "--quiet", "--python", str(self.venv), *REQUIREMENTS],
            cwd=self.folder,
            env=env,
            timeout=900,
        )
        listed = run(
            ["uv", "pip", "list", "--format", "json", "--python", str(self.venv)],
            cwd=self.folder,
            env=env,
            timeout=120,
        )
        installed = {item["name"].lower(): item["version"] for item in json.loads(listed.stdout)}
        self.versions = {name: installed[name] for name in RECORDED if name in installed}
        shutil.copytree(
            APPS, self.folder / APPS_PACKAGE, ignore=shutil.ignore_patterns("__pycache__")
        )
        run(
            [str(self.python), "-m", MODULE, "setup", USER_EMAIL, PASSWORD],
            cwd=self.folder,
            env=env,
            timeout=300,
        )

    @contextlib.contextmanager
    def serve(self, loop: str, http_parser: str) -> Iterator[Running]:
        """One uvicorn worker on 127.0.0.1, as the generated service is served."""
        port = processes.free_port()
        command = [str(self.python), "-m", MODULE, str(port), loop, http_parser]
        with serve_command(self.ws, command, self.folder, self.env(), port, PROBE) as server:
            yield server

    @staticmethod
    def sign_in(base: str) -> str:
        """A token from the app's own login route, once `GET /api/users/me` answers with it."""
        token = login(base, USER_EMAIL, LOGIN_PATH)[0]
        status, body = http("GET", base + USERS_ME.path, token=token)
        if status != 200 or body.get("email") != USER_EMAIL:
            raise BenchError(f"fastapi-users: {USERS_ME.label} answered {status}: {body}")
        return token
