"""Schemathesis against the OpenAPI schema of each database variant of a generated service.

The project is generated and installed as `apiforge new` does it, migrated on a fresh
database and served by uvicorn on 127.0.0.1 from its own environment. Schemathesis, from
apiforge's dev environment (it only speaks HTTP), then sends a seeded, bounded set of valid
and invalid requests as a superuser, and fails on any server error and on any response
the schema does not describe.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from apiforge.gates import GATES, project_env, run_gates
from apiforge.new import NewOptions, create_project
from apiforge.processes import free_port, stop
from apiforge.report import tail
from apiforge.tools import find_uv

pytestmark = pytest.mark.slow

SEED = 7
MAX_EXAMPLES = 25
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)
# Not `positive_data_acceptance`: the `email` format admits addresses at special-use
# domains such as `.test`, which the service refuses on purpose (they cannot receive mail).

# Deleting the account would end the superuser's session halfway through the run, so that
# operation runs on its own, as an ordinary user.
DELETE_ME = "DELETE /api/users/me"
ADMIN_EMAIL = "fuzz-admin@example.com"
USER_EMAIL = "fuzz-user@example.com"
PASSWORD = "fuzz-password-1"
STARTUP_SECONDS = 60
RUN_SECONDS = 300
_UV_RUN = (find_uv(), "run", "--no-sync")


@dataclass
class Service:
    url: str
    log: Path
    admin_token: str
    user_token: str


def _run(command: list[str], project: Path, env: Mapping[str, str]) -> None:
    completed = subprocess.run(
        command, cwd=project, env=dict(env), capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, f"$ {' '.join(command)}\n{completed.stdout}{completed.stderr}"


def _request(url: str, data: bytes, content_type: str) -> dict[str, str]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=10) as response:
        body: dict[str, str] = json.load(response)
        return body


def _login(url: str, email: str) -> str:
    form = urllib.parse.urlencode({"username": email, "password": PASSWORD}).encode()
    tokens = _request(f"{url}/api/auth/token", form, "application/x-www-form-urlencoded")
    return tokens["access_token"]


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


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """A generated service, installed, migrated and running, with two users."""
    database: str = request.param
    project = tmp_path / "fuzzed"
    create_project(
        NewOptions(target=project, data={"project_name": "fuzzed", "database": database}, git=False)
    )
    if database == "postgresql":
        database_url = request.getfixturevalue("postgres").create_database(
            f"fuzz_{secrets.token_hex(4)}"
        )
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    env = project_env(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_urlsafe(36),  # 48 characters
            # The cheapest Argon2 parameters: the run logs in and registers many times.
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_COST": "8",
            "ARGON2_PARALLELISM": "1",
            "ARGON2_ALLOW_WEAK_PARAMETERS": "true",
            "LOG_LEVEL": "WARNING",
        }
    )
    install = [gate for gate in GATES if gate.name == "install"]
    (result,) = run_gates(project, env=env, gates=install)
    assert result.ok, tail(result.output, 40)
    _run([*_UV_RUN, "alembic", "upgrade", "head"], project, env)
    create_superuser = [*_UV_RUN, "python", "-m", "src.cli", "create-superuser", ADMIN_EMAIL]
    _run(create_superuser, project, {**env, "SUPERUSER_PASSWORD": PASSWORD})

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "service.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*_UV_RUN, "uvicorn", "src.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=project,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_up(url, server, log)
        user = json.dumps({"email": USER_EMAIL, "password": PASSWORD}).encode()
        _request(f"{url}/api/users", user, "application/json")
        yield Service(url, log, _login(url, ADMIN_EMAIL), _login(url, USER_EMAIL))
    finally:
        stop([server], grace=10)


def _schemathesis(service: Service, token: str, *selection: str, cwd: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{service.url}/api/openapi.json",
        f"--header=Authorization: Bearer {token}",
        f"--seed={SEED}",
        f"--max-examples={MAX_EXAMPLES}",
        f"--checks={','.join(CHECKS)}",
        "--workers=1",
        "--generation-database=none",
        "--no-color",
        *selection,
    ]
    completed = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=RUN_SECONDS,
    )
    assert completed.returncode == 0, (
        f"{completed.stdout}{completed.stderr}\n"
        f"--- service log ---\n{tail(service.log.read_text(errors='replace'), 60)}"
    )


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(
    service: Service, tmp_path: Path
) -> None:
    _schemathesis(service, service.admin_token, f"--exclude-name={DELETE_ME}", cwd=tmp_path)
    _schemathesis(service, service.user_token, f"--include-name={DELETE_ME}", cwd=tmp_path)
