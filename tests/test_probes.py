"""The security review's probes, sent to a served generated service on 127.0.0.1.

Each probe is a real request (or a few) whose answer the generated README documents:
re-authentication, account lockout, immediate revocation, the body limit, headers,
email normalisation, text rules, the last superuser, concurrent refreshes, the audit
log and purge-tokens. One service per database variant, with an owned resource.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import threading
import unicodedata
import urllib.parse
from collections.abc import Iterator

import pytest
from served import ADMIN_EMAIL, PASSWORD, USER_EMAIL, UV_RUN, Reply, Service, served_project

from apiforge.add import AddOptions

pytestmark = pytest.mark.slow

# Generous per-client limits: every probe comes from 127.0.0.1. The per-account limit
# stays at its default, and is probed.
SETTINGS = {"REGISTRATIONS_PER_CLIENT": "100", "LOGIN_FAILURES_PER_CLIENT": "100"}
NOTE = AddOptions(name="note", fields=["title:str:80", "body:text?"], owned=True)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Service]:
    database: str = request.param
    folder = tmp_path_factory.mktemp(f"probes-{database}")
    if database == "postgresql":
        url = request.getfixturevalue("postgres").create_database("probes")
    else:
        url = f"sqlite+aiosqlite:///{folder / 'probes.db'}"
    with served_project(folder, database, url, settings=SETTINGS, resources=[NOTE]) as served:
        yield served


def new_account(service: Service, name: str) -> tuple[str, dict[str, str]]:
    email = f"{name}@example.com"
    assert service.register(email).status == 201
    return email, service.login(email)


def error_code(reply: Reply) -> str:
    code: str = reply.body["error"]["code"]
    return code


def test_a_stolen_access_token_cannot_take_the_account_over(service: Service) -> None:
    _, tokens = new_account(service, "reauth")
    access = tokens["access_token"]

    patch_password = service.call(
        "PATCH", "/api/users/me", token=access, json_body={"password": "hijacked-password-1"}
    )
    patch_email = service.call(
        "PATCH", "/api/users/me", token=access, json_body={"email": "mallory@example.com"}
    )
    wrong = service.call(
        "POST",
        "/api/users/me/password",
        token=access,
        json_body={"current_password": "guess-guess-1", "new_password": "hijacked-password-1"},
    )
    delete_without = service.call("DELETE", "/api/users/me", token=access)

    assert (patch_password.status, patch_email.status) == (422, 422)
    assert (wrong.status, error_code(wrong)) == (403, "forbidden")
    assert delete_without.status == 422
    assert service.call("GET", "/api/users/me", token=access).body["email"] == "reauth@example.com"


def test_an_account_locks_after_five_wrong_passwords_even_for_the_right_one(
    service: Service,
) -> None:
    email, _ = new_account(service, "brute")
    wrong = [
        service.call("POST", "/api/auth/token", form={"username": email, "password": f"no-{n}"})
        for n in range(5)
    ]
    right = service.call("POST", "/api/auth/token", form={"username": email, "password": PASSWORD})

    assert [reply.status for reply in wrong] == [401] * 5
    assert right.status == 429
    assert error_code(right) == "too_many_requests"
    assert 0 < int(right.headers["Retry-After"]) <= 900


def test_revocation_is_immediate(service: Service) -> None:
    email, tokens = new_account(service, "revoke")
    me = service.call("GET", "/api/users/me", token=tokens["access_token"])
    logout = service.call(
        "POST", "/api/auth/logout", json_body={"refresh_token": tokens["refresh_token"]}
    )
    after = service.call("GET", "/api/users/me", token=tokens["access_token"])

    assert (me.status, logout.status, after.status) == (200, 204, 401)

    second = service.login(email)
    change = service.call(
        "POST",
        "/api/users/me/password",
        token=second["access_token"],
        json_body={"current_password": PASSWORD, "new_password": "another-password-12"},
    )
    assert change.status == 204
    assert service.call("GET", "/api/users/me", token=second["access_token"]).status == 401


def test_a_large_body_gets_413_in_the_error_shape(service: Service) -> None:
    # The service answers from the Content-Length alone, before reading the body. A client
    # that sent 3 MiB regardless could meet the closed connection mid-body (a broken pipe,
    # now and then): this one asks first (Expect: 100-continue), as curl does for large
    # bodies, and sends the body only if told to continue.
    address = urllib.parse.urlsplit(service.url)
    assert address.hostname is not None
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    try:
        connection.putrequest("POST", "/api/auth/refresh")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(3 * 1024 * 1024))
        connection.putheader("Expect", "100-continue")
        connection.endheaders()
        response = connection.getresponse()
        status, headers, text = response.status, response.headers, response.read().decode()
    finally:
        connection.close()
    reply = Reply(status, headers, json.loads(text), text)

    assert reply.status == 413
    assert error_code(reply) == "content_too_large"
    assert reply.body["error"]["request_id"] == reply.headers["X-Request-ID"]
    assert service.call("GET", "/api/health").status == 200


def test_headers_and_caching(service: Service) -> None:
    tokens = service.call(
        "POST", "/api/auth/token", form={"username": USER_EMAIL, "password": PASSWORD}
    )
    missing = service.call("GET", "/api/nothing-here")

    for reply in (tokens, missing):
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "no-referrer"
        assert reply.headers["X-Frame-Options"] == "DENY"
    assert tokens.headers["Cache-Control"] == "no-store"


def test_login_normalises_the_email_as_registration_does(service: Service) -> None:
    decomposed = unicodedata.normalize("NFD", "José.Núñez@example.com")
    assert service.register(decomposed).status == 201

    reply = service.call(
        "POST", "/api/auth/token", form={"username": decomposed, "password": PASSWORD}
    )

    assert reply.status == 200, reply.text


@pytest.mark.parametrize(
    "title",
    ["evil\u202etxt.exe", "zero\u200bwidth", "line\u2028break", "   ", "bell\x07"],
    ids=["bidi-override", "zero-width", "line-separator", "whitespace-only", "control"],
)
def test_text_fields_refuse_invisible_and_empty_text(service: Service, title: str) -> None:
    access = service.login(USER_EMAIL)["access_token"]

    reply = service.call("POST", "/api/notes", token=access, json_body={"title": title})

    assert reply.status == 422, reply.text


def test_common_and_short_passwords_are_refused(service: Service) -> None:
    common = service.call(
        "POST", "/api/users", json_body={"email": "c@example.com", "password": "password1234"}
    )
    short = service.call(
        "POST", "/api/users", json_body={"email": "s@example.com", "password": "Xq7!vR2#"}
    )

    assert (common.status, short.status) == (422, 422)


def test_the_last_superuser_cannot_delete_itself(service: Service) -> None:
    access = service.login(ADMIN_EMAIL)["access_token"]

    reply = service.call(
        "DELETE", "/api/users/me", token=access, json_body={"current_password": PASSWORD}
    )

    assert reply.status == 409
    assert "only active superuser" in reply.body["error"]["message"]


def test_two_concurrent_refreshes_end_the_session_as_documented(service: Service) -> None:
    _, tokens = new_account(service, "tabs")
    replies: list[Reply] = []

    def refresh() -> None:
        replies.append(
            service.call(
                "POST", "/api/auth/refresh", json_body={"refresh_token": tokens["refresh_token"]}
            )
        )

    threads = [threading.Thread(target=refresh) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(reply.status for reply in replies) == [200, 401]
    (winner,) = (reply for reply in replies if reply.status == 200)
    again = service.call(
        "POST", "/api/auth/refresh", json_body={"refresh_token": winner.body["refresh_token"]}
    )
    assert again.status == 401


def test_the_audit_log_has_one_line_per_event_without_secrets(service: Service) -> None:
    email, _ = new_account(service, "audited")
    failed = service.call(
        "POST", "/api/auth/token", form={"username": email, "password": "wrong-secret-77"}
    )

    lines = [
        json.loads(line) for line in service.log.read_text().splitlines() if line.startswith("{")
    ]
    audit = [line for line in lines if line.get("logger") == "src.audit"]
    failures = [line for line in audit if line["event"] == "login_failed"]
    assert failures[-1]["request_id"] == failed.headers["X-Request-ID"]
    assert failures[-1]["client"] == "127.0.0.1"
    assert "email_sha256" in failures[-1]
    assert {"user_registered", "login_succeeded", "login_failed"} <= {
        line["event"] for line in audit
    }
    text = service.log.read_text()
    assert "wrong-secret-77" not in text
    assert PASSWORD not in text


def test_purge_tokens_runs_against_the_served_database(service: Service) -> None:
    completed = subprocess.run(
        [*UV_RUN, "python", "-m", "src.cli", "purge-tokens"],
        cwd=service.project,
        env=service.env,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("deleted ")
