"""A generated service, installed, migrated and served by uvicorn on 127.0.0.1.

The project is generated as `apiforge new` does it (with git, so resources can be
added), installed from its own lock file, migrated on a fresh database and started
from its own environment. Tests then speak HTTP to it, as a client would.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from apiforge.add import AddOptions, add_resource
from apiforge.gates import GATES, project_env, run_gates
from apiforge.new import NewOptions, create_project
from apiforge.processes import free_port, stop
from apiforge.report import tail
from apiforge.tools import find_uv

ADMIN_EMAIL = "probe-admin@example.com"
USER_EMAIL = "probe-user@example.com"
PASSWORD = "probe-password-12"
STARTUP_SECONDS = 60
UV_RUN = (find_uv(), "run", "--no-sync")

# The cheapest Argon2 parameters (explicitly allowed for tests): runs log in many times.
FAST_HASHING = {
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_COST": "8",
    "ARGON2_PARALLELISM": "1",
    "ARGON2_ALLOW_WEAK_PARAMETERS": "true",
}


@dataclass
class Reply:
    status: int
    headers: Message  # case-insensitive: headers["Retry-After"] finds retry-after
    body: Any
    text: str


@dataclass
class Service:
    url: str
    log: Path
    project: Path
    env: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)

    def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        token: str | None = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Send one request; any status comes back as a Reply, never as an exception."""
        data, content_type = raw, None
        if json_body is not None:
            data, content_type = json.dumps(json_body).encode(), "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode()
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, reply_headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            status, reply_headers, payload = exc.code, exc.headers, exc.read()
        text = payload.decode(errors="replace")
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return Reply(status, reply_headers, body, text)

    def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        reply = self.call("POST", "/api/auth/token", form={"username": email, "password": password})
        assert reply.status == 200, reply.text
        tokens: dict[str, str] = reply.body
        return tokens

    def register(self, email: str, password: str = PASSWORD) -> Reply:
        return self.call("POST", "/api/users", json_body={"email": email, "password": password})


def _run(command: Sequence[str], project: Path, env: Mapping[str, str]) -> None:
    completed = subprocess.run(
        list(command), cwd=project, env=dict(env), capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, f"$ {' '.join(command)}\n{completed.stdout}{completed.stderr}"


def _wait_until_up(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while server.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    problem = "exited" if server.poll() is not None else f"did not answer in {STARTUP_SECONDS} s"
    pytest.fail(f"the service {problem}:\n{tail(log.read_text(errors='replace'), 40)}")


@contextlib.contextmanager
def served_project(
    folder: Path,
    database: str,
    database_url: str,
    *,
    settings: Mapping[str, str] | None = None,
    resources: Sequence[AddOptions] = (),
) -> Iterator[Service]:
    """Generate, install, migrate and serve a project; yield it with a superuser (ADMIN_EMAIL)
    and a user (USER_EMAIL) already registered, both with PASSWORD."""
    project = folder / "served"
    create_project(
        NewOptions(target=project, data={"project_name": "served", "database": database})
    )
    for resource in resources:
        add_resource(AddOptions(**{**resource.__dict__, "project": project}))
    env = project_env(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(36),
            "LOG_LEVEL": "INFO",
            **FAST_HASHING,
            **(settings or {}),
        }
    )
    install = [gate for gate in GATES if gate.name == "install"]
    (result,) = run_gates(project, env=env, gates=install)
    assert result.ok, tail(result.output, 40)
    _run([*UV_RUN, "alembic", "upgrade", "head"], project, env)
    create = [*UV_RUN, "python", "-m", "src.cli", "create-superuser", ADMIN_EMAIL]
    _run(create, project, {**env, "SUPERUSER_PASSWORD": PASSWORD})

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "service.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*UV_RUN, "uvicorn", "src.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, server, log)
        service = Service(url, log, project, env)
        assert service.register(USER_EMAIL).status == 201
        yield service
    finally:
        stop([server], grace=10)
