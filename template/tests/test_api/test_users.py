import uuid

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.config import get_settings
from src.db.models import User
from src.db.repositories import UserRepository
from src.schemas.user import UserCreate
from src.services.user import UserService
from tests.conftest import PASSWORD


async def test_register_creates_a_user(client: AsyncClient) -> None:
    response = await client.post(
        "/api/users",
        json={"email": "New.User@Example.COM", "password": "s3cret-enough", "full_name": " Ann "},
    )

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "new.user@example.com"
    assert body["full_name"] == "Ann"
    assert body["is_active"] is True
    assert body["is_superuser"] is False
    assert uuid.UUID(body["id"])
    assert "password" not in body
    assert "hashed_password" not in body


async def test_register_rejects_a_taken_email_in_any_case(client: AsyncClient, user: User) -> None:
    response = await client.post(
        "/api/users", json={"email": user.email.upper(), "password": "another-password"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "payload",
    [
        {"email": "not-an-email", "password": "long-enough-password"},
        {"email": "a@example.com", "password": "short"},
        {"email": "a@example.com", "password": "x" * 129},
        {"email": f"{'a' * 250}@example.com", "password": "long-enough-password"},
        {"email": "a@example.com", "password": "long-enough-password", "full_name": "n" * 101},
        {"email": "a@example.com", "password": "long-enough-password", "full_name": "nul\x00byte"},
        {"email": "a@example.com", "password": "long-enough-password", "full_name": "two\nlines"},
        {"email": "a@example.com", "password": "long-enough-password", "is_superuser": True},
        {"password": "long-enough-password"},
    ],
)
async def test_register_validates_input(client: AsyncClient, payload: dict[str, object]) -> None:
    response = await client.post("/api/users", json=payload)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"]
    assert all(set(detail) == {"loc", "msg", "type"} for detail in error["details"])


async def test_a_concurrent_registration_is_a_conflict(
    client: AsyncClient, user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another request takes the email between the check and the insert: the unique
    # index refuses the row, and the client gets the same 409 as for any taken email.
    async def not_found(self: UserRepository, email: str) -> None:
        return None

    monkeypatch.setattr(UserRepository, "get_by_email", not_found)

    response = await client.post(
        "/api/users", json={"email": user.email, "password": "another-password"}
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


async def test_validation_errors_never_echo_the_input(client: AsyncClient) -> None:
    response = await client.post("/api/users", json={"email": "a@example.com", "password": "pw1"})

    assert response.status_code == 422
    assert "pw1" not in response.text


async def test_read_me(client: AsyncClient, user: User, user_headers: dict[str, str]) -> None:
    response = await client.get("/api/users/me", headers=user_headers)

    assert response.status_code == 200
    assert response.json()["id"] == str(user.id)
    assert response.json()["email"] == "alice@example.com"


async def test_read_me_needs_a_token(client: AsyncClient) -> None:
    response = await client.get("/api/users/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


async def test_update_me_changes_only_given_fields(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.patch(
        "/api/users/me", headers=user_headers, json={"full_name": "Alice Liddell"}
    )

    assert response.status_code == 200
    assert response.json()["full_name"] == "Alice Liddell"
    assert response.json()["email"] == "alice@example.com"


async def test_update_me_can_clear_the_name(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.patch("/api/users/me", headers=user_headers, json={"full_name": None})

    assert response.status_code == 200
    assert response.json()["full_name"] is None


@pytest.mark.parametrize(
    "payload",
    [{"email": "mallory@example.com"}, {"password": "a-brand-new-password"}],
)
async def test_update_me_cannot_change_the_email_or_password(
    client: AsyncClient, user: User, user_headers: dict[str, str], payload: dict[str, str]
) -> None:
    # A stolen access token alone must not take the account over.
    response = await client.patch("/api/users/me", headers=user_headers, json=payload)

    assert response.status_code == 422
    me = await client.get("/api/users/me", headers=user_headers)
    assert me.json()["email"] == "alice@example.com"


async def test_change_email_needs_the_current_password(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    wrong = await client.post(
        "/api/users/me/email",
        headers=user_headers,
        json={"email": "mallory@example.com", "current_password": "not-the-password"},
    )
    assert wrong.status_code == 403
    assert wrong.json()["error"]["code"] == "forbidden"

    response = await client.post(
        "/api/users/me/email",
        headers=user_headers,
        json={"email": "Alice@New.Example", "current_password": PASSWORD},
    )
    assert response.status_code == 200
    assert response.json()["email"] == "alice@new.example"
    # The sessions stay.
    assert (await client.get("/api/users/me", headers=user_headers)).status_code == 200


async def test_change_email_refuses_a_taken_email(
    client: AsyncClient, user: User, superuser: User, user_headers: dict[str, str]
) -> None:
    response = await client.post(
        "/api/users/me/email",
        headers=user_headers,
        json={"email": superuser.email.upper(), "current_password": PASSWORD},
    )

    assert response.status_code == 409


async def test_change_password_needs_the_current_password(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    wrong = await client.post(
        "/api/users/me/password",
        headers=user_headers,
        json={"current_password": "not-the-password", "new_password": "a-brand-new-password"},
    )
    assert wrong.status_code == 403

    response = await client.post(
        "/api/users/me/password",
        headers=user_headers,
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
    )
    assert response.status_code == 204
    old = await client.post("/api/auth/token", data={"username": user.email, "password": PASSWORD})
    new = await client.post(
        "/api/auth/token", data={"username": user.email, "password": "a-brand-new-password"}
    )
    assert old.status_code == 401
    assert new.status_code == 200


async def test_wrong_current_passwords_lock_the_account_like_failed_logins(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    attempts = get_settings().login_failures_per_account
    for _ in range(attempts):
        response = await client.request(
            "DELETE",
            "/api/users/me",
            headers=user_headers,
            json={"current_password": "not-the-password"},
        )
        assert response.status_code == 403

    locked = await client.post(
        "/api/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


@pytest.mark.parametrize(
    "payload", [{"full_name": "   "}, {"is_superuser": True}, {"is_active": True}]
)
async def test_update_me_validates_input(
    client: AsyncClient, user: User, user_headers: dict[str, str], payload: dict[str, object]
) -> None:
    response = await client.patch("/api/users/me", headers=user_headers, json=payload)

    assert response.status_code == 422


async def test_a_new_password_ends_every_session(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    login = await client.post(
        "/api/auth/token", data={"username": user.email, "password": PASSWORD}
    )
    other_device = login.json()

    response = await client.post(
        "/api/users/me/password",
        headers=user_headers,
        json={"current_password": PASSWORD, "new_password": "a-brand-new-password"},
    )

    assert response.status_code == 204
    refreshed = await client.post(
        "/api/auth/refresh", json={"refresh_token": other_device["refresh_token"]}
    )
    assert refreshed.status_code == 401
    # Access tokens end at once too, the one that changed the password included.
    for headers in (user_headers, {"Authorization": f"Bearer {other_device['access_token']}"}):
        me = await client.get("/api/users/me", headers=headers)
        assert me.status_code == 401
    # Logging in with the new password opens a working session.
    relogin = await client.post(
        "/api/auth/token", data={"username": user.email, "password": "a-brand-new-password"}
    )
    assert relogin.status_code == 200
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {relogin.json()['access_token']}"}
    )
    assert me.status_code == 200


async def test_a_new_name_or_email_keeps_the_sessions(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.patch(
        "/api/users/me", headers=user_headers, json={"full_name": "Alice Liddell"}
    )

    assert response.status_code == 200
    me = await client.get("/api/users/me", headers=user_headers)
    assert me.status_code == 200
    assert me.json()["full_name"] == "Alice Liddell"


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
async def test_users_change_only_themselves(
    client: AsyncClient,
    superuser: User,
    user_headers: dict[str, str],
    superuser_headers: dict[str, str],
    method: str,
) -> None:
    response = await client.request(
        method, f"/api/users/{superuser.id}", headers=user_headers, json={"full_name": "Mallory"}
    )

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    after = await client.get("/api/users/me", headers=superuser_headers)
    assert after.json()["full_name"] == "Test User"


async def test_delete_me(client: AsyncClient, user: User, user_headers: dict[str, str]) -> None:
    without = await client.delete("/api/users/me", headers=user_headers)
    wrong = await client.request(
        "DELETE", "/api/users/me", headers=user_headers, json={"current_password": "nope"}
    )
    assert (without.status_code, wrong.status_code) == (422, 403)

    response = await client.request(
        "DELETE", "/api/users/me", headers=user_headers, json={"current_password": PASSWORD}
    )

    assert response.status_code == 204
    assert response.content == b""
    after = await client.get("/api/users/me", headers=user_headers)
    assert after.status_code == 401


async def test_list_users_as_superuser(
    client: AsyncClient, user: User, superuser: User, superuser_headers: dict[str, str]
) -> None:
    response = await client.get("/api/users", headers=superuser_headers)

    assert response.status_code == 200
    page = response.json()
    assert page["total"] == 2
    assert page["limit"] == 20
    assert page["offset"] == 0
    assert {item["email"] for item in page["items"]} == {user.email, superuser.email}


async def test_list_users_pages(
    client: AsyncClient, user: User, superuser: User, superuser_headers: dict[str, str]
) -> None:
    first = await client.get("/api/users?limit=1", headers=superuser_headers)
    second = await client.get("/api/users?limit=1&offset=1", headers=superuser_headers)

    assert first.status_code == second.status_code == 200
    assert first.json()["total"] == second.json()["total"] == 2
    assert len(first.json()["items"]) == len(second.json()["items"]) == 1
    assert first.json()["items"][0]["id"] != second.json()["items"][0]["id"]


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=abc"])
async def test_list_users_validates_paging(
    client: AsyncClient, superuser_headers: dict[str, str], query: str
) -> None:
    response = await client.get(f"/api/users?{query}", headers=superuser_headers)

    assert response.status_code == 422


async def test_list_users_is_for_superusers_only(
    client: AsyncClient, user_headers: dict[str, str]
) -> None:
    response = await client.get("/api/users", headers=user_headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


async def test_list_users_needs_a_token(client: AsyncClient) -> None:
    response = await client.get("/api/users")

    assert response.status_code == 401


async def test_read_user_as_superuser(
    client: AsyncClient, user: User, superuser_headers: dict[str, str]
) -> None:
    response = await client.get(f"/api/users/{user.id}", headers=superuser_headers)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


async def test_read_user_not_found(client: AsyncClient, superuser_headers: dict[str, str]) -> None:
    response = await client.get(f"/api/users/{uuid.uuid4()}", headers=superuser_headers)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_read_user_rejects_a_malformed_id(
    client: AsyncClient, superuser_headers: dict[str, str]
) -> None:
    response = await client.get("/api/users/not-a-uuid", headers=superuser_headers)

    assert response.status_code == 422


async def test_read_user_is_for_superusers_only(
    client: AsyncClient, user: User, user_headers: dict[str, str]
) -> None:
    response = await client.get(f"/api/users/{user.id}", headers=user_headers)

    assert response.status_code == 403


async def test_the_last_superuser_cannot_delete_itself(
    client: AsyncClient, session: AsyncSession, superuser: User, superuser_headers: dict[str, str]
) -> None:
    body = {"current_password": PASSWORD}
    refused = await client.request("DELETE", "/api/users/me", headers=superuser_headers, json=body)
    assert refused.status_code == 409
    assert "only active superuser" in refused.json()["error"]["message"]

    await UserService(session).register(
        UserCreate(email="root2@example.com", password=PASSWORD), is_superuser=True
    )
    deleted = await client.request("DELETE", "/api/users/me", headers=superuser_headers, json=body)
    assert deleted.status_code == 204


async def test_registrations_are_limited_per_client(client: AsyncClient) -> None:
    for number in range(get_settings().registrations_per_client):
        response = await client.post(
            "/api/users", json={"email": f"new{number}@example.com", "password": PASSWORD}
        )
        assert response.status_code == 201

    refused = await client.post(
        "/api/users", json={"email": "one-more@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
