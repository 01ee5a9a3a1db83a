"""Schemathesis against the OpenAPI schema of each database variant of a generated service.

The project is generated and installed as `apiforge new` does it, migrated on a fresh
database and served by uvicorn on 127.0.0.1 from its own environment. Schemathesis, from
apiforge's dev environment (it only speaks HTTP), then sends a seeded, bounded set of valid
and invalid requests as a superuser, and fails on any server error and on any response
the schema does not describe.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from served import ADMIN_EMAIL, USER_EMAIL, Service, served_project

from apiforge.report import tail

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
RUN_SECONDS = 300


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    """A generated service, installed, migrated and running, with two users."""
    database: str = request.param
    if database == "postgresql":
        database_url = request.getfixturevalue("postgres").create_database(
            f"fuzz_{secrets.token_hex(4)}"
        )
    else:
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}"
    with served_project(
        tmp_path, database, database_url, settings={"LOG_LEVEL": "WARNING"}
    ) as served:
        served.tokens = {
            "admin": served.login(ADMIN_EMAIL)["access_token"],
            "user": served.login(USER_EMAIL)["access_token"],
        }
        yield served


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
    _schemathesis(service, service.tokens["admin"], f"--exclude-name={DELETE_ME}", cwd=tmp_path)
    _schemathesis(service, service.tokens["user"], f"--include-name={DELETE_ME}", cwd=tmp_path)
