"""/api/auth through HTTP against PostgreSQL: shapes, status codes, rotation, revocation."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
from argon2 import PasswordHasher

from app.core.config import Settings
from tests.auth.conftest import (
    CHROME_MAC,
    FIREFOX_WINDOWS,
    PASSWORD,
    ClientFactory,
    bearer,
    login,
    register,
    signed_in,
)
from tests.conftest import TEST_SIGNING_KEYS

Sql = Callable[..., Any]


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """An RFC 9457 body with this status, marked not cacheable."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["meta"]["success"] is False
    return body


def without_meta(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "meta"}


# --- register -------------------------------------------------------------------------


async def test_register_returns_the_user_in_the_envelope(client: httpx.AsyncClient) -> None:
    before = datetime.now(UTC)
    response = await register(client, "  Ada.Lovelace@Example.COM ", full_name="Ada Lovelace")
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["meta"]["success"] is True
    data = body["data"]
    assert set(data) == {"id", "email", "full_name", "roles", "created_at"}
    uuid.UUID(data["id"])
    assert data["email"] == "ada.lovelace@example.com"
    assert data["full_name"] == "Ada Lovelace"
    assert data["roles"] == ["user"]
    created = datetime.fromisoformat(data["created_at"])
    assert before - timedelta(seconds=5) <= created <= datetime.now(UTC) + timedelta(seconds=5)


async def test_register_stores_an_argon2_hash_not_the_password(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    await register(client)
    [row] = await sql("SELECT password_hash FROM users")
    assert row["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in row["password_hash"]


async def test_register_duplicate_email_after_normalising_is_409(
    client: httpx.AsyncClient,
) -> None:
    assert (await register(client, "ada@example.com")).status_code == 201
    response = await register(client, " ADA@example.com")
    assert_problem(response, 409)


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "ada@example.com"},
        {"password": PASSWORD},
        {"email": "ada@example.com", "password": PASSWORD, "is_admin": True},
        {"email": "ada@example.com", "password": PASSWORD, "roles": ["admin"]},
        {"email": "ada@example.com", "password": PASSWORD, "full_name": "x" * 201},
    ],
    ids=["bad-email", "no-password", "no-email", "unknown-field", "roles-field", "long-name"],
)
async def test_register_rejects_invalid_bodies_with_422(
    client: httpx.AsyncClient, sql: Sql, body: dict[str, Any]
) -> None:
    response = await client.post("/api/auth/register", json=body)
    assert_problem(response, 422)
    assert await sql("SELECT id FROM users") == []


@pytest.mark.parametrize(
    ("password", "words"),
    [("Tr0ub4d", "short"), ("p" * 129, "long")],
    ids=["too-short", "too-long"],
)
async def test_register_password_policy_is_422_on_the_password_field(
    client: httpx.AsyncClient, sql: Sql, password: str, words: str
) -> None:
    response = await register(client, password=password)
    body = assert_problem(response, 422)
    assert password not in response.text
    [error] = body["errors"]
    assert error["loc"] == ["body", "password"]
    assert words in error["msg"]
    assert await sql("SELECT id FROM users") == []


@pytest.mark.parametrize(
    "password",
    ["password", "123456789", "qwertyuiop", "iloveyou", "PassWord", "Football"],
)
async def test_register_refuses_a_common_password_with_a_reason(
    client: httpx.AsyncClient, sql: Sql, password: str
) -> None:
    """NIST SP 800-63B: refuse passwords from lists of common ones (case does not help)."""
    body = assert_problem(await register(client, password=password), 422)
    [error] = body["errors"]
    assert error["loc"] == ["body", "password"]
    assert "common" in error["msg"]
    assert await sql("SELECT id FROM users") == []


@pytest.mark.parametrize("password", [" " * 8, "\t \n \u3000 \u00a0  "], ids=["spaces", "mixed"])
async def test_register_refuses_a_password_of_whitespace_only(
    client: httpx.AsyncClient, sql: Sql, password: str
) -> None:
    body = assert_problem(await register(client, password=password), 422)
    [error] = body["errors"]
    assert error["loc"] == ["body", "password"]
    assert "spaces" in error["msg"]
    assert await sql("SELECT id FROM users") == []


async def test_register_password_policy_follows_settings(make_client: ClientFactory) -> None:
    async with make_client(PASSWORD_MIN_LENGTH=20) as client:
        assert (await register(client, password="x" * 19)).status_code == 422
        assert (await register(client, password="x" * 20)).status_code == 201


@pytest.mark.parametrize("field", ["full_name", "email"])
@pytest.mark.parametrize(
    "escaped",
    ["a\\u0000b", "x\\ud800y", "x\\udfffy"],
    ids=["nul", "high-surrogate", "low-surrogate"],
)
async def test_register_string_postgres_cannot_store_is_422_naming_the_field(
    client: httpx.AsyncClient, sql: Sql, field: str, escaped: str
) -> None:
    """NUL and unpaired surrogates are valid JSON but no PostgreSQL text: refused up front."""
    fields = {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"}
    # Written by hand: a JSON encoder would refuse the lone surrogate before sending it.
    body = ", ".join(
        f'"{name}": "{escaped if name == field else value}"' for name, value in fields.items()
    )
    response = await client.post(
        "/api/auth/register",
        content=("{" + body + "}").encode(),
        headers={"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422)
    assert [error["loc"] for error in problem["errors"]] == [["body", field]]
    assert await sql("SELECT id FROM users") == []


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("text/plain", '{"email": "ada@example.com", "password": "correct horse battery"}'),
        ("application/x-www-form-urlencoded", "email=ada%40example.com&password=correct+horse"),
    ],
    ids=["text", "form"],
)
async def test_a_json_endpoint_sent_another_media_type_is_415(
    client: httpx.AsyncClient, sql: Sql, content_type: str, content: str
) -> None:
    response = await client.post(
        "/api/auth/register", content=content.encode(), headers={"Content-Type": content_type}
    )
    problem = assert_problem(response, 415)
    assert "application/json" in problem["detail"]
    assert "correct" not in response.text  # the body is not echoed
    assert await sql("SELECT id FROM users") == []


# --- login ----------------------------------------------------------------------------


def decode(token: str, settings: Settings, key: str) -> dict[str, Any]:
    """Decode with PyJWT and the test key, independently of the app's JWTService.

    Access tokens are for the clients; refresh tokens for this service (the issuer).
    """
    refresh = key.startswith("REFRESH")
    claims: dict[str, Any] = jwt.decode(
        token,
        TEST_SIGNING_KEYS[key],
        algorithms=["HS256"],
        audience=settings.project_identifier if refresh else settings.project_client_identifier,
        issuer=settings.project_identifier,
    )
    return claims


async def test_login_returns_a_token_pair_naming_the_session(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    user = (await register(client)).json()["data"]
    response = await login(client, " ADA@example.com ")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    data = response.json()["data"]
    assert set(data) == {"access_token", "refresh_token", "token_type", "expires_in", "session_id"}
    assert data["token_type"] == "bearer"
    assert data["expires_in"] == settings.ACCESS_TOKEN_EXPIRE_MINUTES * 60
    access = decode(data["access_token"], settings, "ACCESS_TOKEN_SIGNING_KEY")
    refresh = decode(data["refresh_token"], settings, "REFRESH_TOKEN_SIGNING_KEY")
    for claims, kind in ((access, "access"), (refresh, "refresh")):
        assert claims["type"] == kind
        assert claims["sub"] == user["id"]
        assert claims["sid"] == data["session_id"]
        assert claims["roles"] == ["user"]


async def test_login_creates_a_session_row_with_device_and_hashed_refresh_token(
    client: httpx.AsyncClient, settings: Settings, sql: Sql
) -> None:
    user = (await register(client)).json()["data"]
    before = datetime.now(UTC)
    data = (await login(client, user_agent=CHROME_MAC)).json()["data"]
    [row] = await sql("SELECT * FROM user_sessions")
    assert str(row["id"]) == data["session_id"]
    assert str(row["user_id"]) == user["id"]
    assert row["user_agent"] == CHROME_MAC
    assert row["ip_address"] == "127.0.0.1"
    assert (row["device_type"], row["os"], row["browser"]) == ("desktop", "macOS", "Chrome")
    assert row["fingerprint"] == "desktop | macOS | Chrome"
    assert row["refresh_token_hash"] == hashlib.sha256(data["refresh_token"].encode()).hexdigest()
    assert row["revoked_at"] is None
    assert before - timedelta(seconds=5) <= row["created_at"] <= datetime.now(UTC)
    assert row["last_used_at"] == row["created_at"]
    lifetime = timedelta(days=settings.SESSION_EXPIRE_DAYS)
    assert abs(row["expires_at"] - (row["created_at"] + lifetime)) < timedelta(seconds=1)


async def test_login_session_lifetime_follows_settings(
    make_client: ClientFactory, sql: Sql
) -> None:
    async with make_client(SESSION_EXPIRE_DAYS=3) as client:
        await signed_in(client)
        [row] = await sql("SELECT created_at, expires_at FROM user_sessions")
    assert abs(row["expires_at"] - row["created_at"] - timedelta(days=3)) < timedelta(seconds=1)


async def test_wrong_password_and_unknown_email_get_the_same_401(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    wrong = await login(client, password="not the password")
    unknown = await login(client, "nobody@example.com")
    long = await login(client, password="p" * 500)
    bodies = [without_meta(assert_problem(r, 401)) for r in (wrong, unknown, long)]
    assert bodies[0] == bodies[1] == bodies[2]
    for response in (wrong, unknown, long):
        assert response.headers["www-authenticate"] == "Bearer"
    assert "nobody@example.com" not in unknown.text


async def test_login_costs_one_argon2_run_and_refresh_none(client: httpx.AsyncClient) -> None:
    await register(client)
    hasher = client.app.state.password_security  # type: ignore[attr-defined]
    before_login = hasher.argon2_runs
    response = await login(client)
    assert response.status_code == 200
    after_login = hasher.argon2_runs
    refreshed = await refresh(client, response.json()["data"]["refresh_token"])
    assert refreshed.status_code == 200
    assert (after_login - before_login, hasher.argon2_runs - after_login) == (1, 0)


async def test_login_with_an_invalid_body_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login", json={"email": "ada@example.com", "password": PASSWORD, "x": 1}
    )
    assert_problem(response, 422)


# --- refresh --------------------------------------------------------------------------


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def test_refresh_rotates_the_pair_within_the_same_session(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    first = await signed_in(client)
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()["data"]
    assert second["session_id"] == first["session_id"]
    assert second["token_type"] == "bearer"
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    claims = decode(second["refresh_token"], settings, "REFRESH_TOKEN_SIGNING_KEY")
    assert claims["sid"] == first["session_id"]
    me = await client.get("/api/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 200
    # The new refresh token rotates again.
    assert (await refresh(client, second["refresh_token"])).status_code == 200


async def test_refresh_reuse_revokes_the_session(client: httpx.AsyncClient, sql: Sql) -> None:
    first = await signed_in(client)
    second = (await refresh(client, first["refresh_token"])).json()["data"]

    reused = await refresh(client, first["refresh_token"])

    assert_problem(reused, 401)
    assert reused.headers["www-authenticate"] == "Bearer"
    [row] = await sql("SELECT revoked_at FROM user_sessions")
    assert row["revoked_at"] is not None
    assert (await refresh(client, second["refresh_token"])).status_code == 401
    me = await client.get("/api/auth/me", headers=bearer(second["access_token"]))
    assert me.status_code == 401


async def test_refresh_reuse_within_the_grace_period_keeps_the_session(
    make_client: ClientFactory, sql: Sql
) -> None:
    async with make_client(REFRESH_REUSE_GRACE_SECONDS=30) as client:
        first = await signed_in(client)
        second = (await refresh(client, first["refresh_token"])).json()["data"]

        reused = await refresh(client, first["refresh_token"])

        assert_problem(reused, 401)
        [row] = await sql("SELECT revoked_at FROM user_sessions")
        assert row["revoked_at"] is None
        assert (await refresh(client, second["refresh_token"])).status_code == 200


async def test_refresh_reuse_after_the_grace_period_revokes(
    make_client: ClientFactory, sql: Sql
) -> None:
    async with make_client(REFRESH_REUSE_GRACE_SECONDS=30) as client:
        first = await signed_in(client)
        await refresh(client, first["refresh_token"])
        await sql("UPDATE user_sessions SET rotated_at = rotated_at - interval '31 seconds'")

        assert (await refresh(client, first["refresh_token"])).status_code == 401

        [row] = await sql("SELECT revoked_at FROM user_sessions")
        assert row["revoked_at"] is not None


async def test_concurrent_refreshes_with_one_token_cannot_both_succeed(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    pair = await signed_in(client)
    responses = await asyncio.gather(*(refresh(client, pair["refresh_token"]) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 401]
    # With no grace period the loser counts as reuse: the session is gone.
    [row] = await sql("SELECT revoked_at FROM user_sessions")
    assert row["revoked_at"] is not None


async def test_concurrent_refreshes_within_the_grace_period_keep_the_session(
    make_client: ClientFactory, sql: Sql
) -> None:
    async with make_client(REFRESH_REUSE_GRACE_SECONDS=30) as client:
        pair = await signed_in(client)
        responses = await asyncio.gather(
            *(refresh(client, pair["refresh_token"]) for _ in range(2))
        )
        assert sorted(r.status_code for r in responses) == [200, 401]
        winner = next(r for r in responses if r.status_code == 200).json()["data"]
        [row] = await sql("SELECT revoked_at FROM user_sessions")
        assert row["revoked_at"] is None
        assert (await refresh(client, winner["refresh_token"])).status_code == 200


async def test_refresh_of_an_expired_session_is_401(client: httpx.AsyncClient, sql: Sql) -> None:
    pair = await signed_in(client)
    await sql("UPDATE user_sessions SET expires_at = now() - interval '1 second'")
    assert_problem(await refresh(client, pair["refresh_token"]), 401)
    me = await client.get("/api/auth/me", headers=bearer(pair["access_token"]))
    assert_problem(me, 401)


async def test_refresh_of_a_revoked_session_is_401(client: httpx.AsyncClient) -> None:
    pair = await signed_in(client)
    assert (
        await client.post("/api/auth/logout", headers=bearer(pair["access_token"]))
    ).status_code == 204
    assert_problem(await refresh(client, pair["refresh_token"]), 401)


async def test_refresh_stores_the_new_digest_and_keeps_the_previous_one(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    first = await signed_in(client)
    before = datetime.now(UTC)
    second = (await refresh(client, first["refresh_token"])).json()["data"]
    [row] = await sql("SELECT * FROM user_sessions")
    assert row["refresh_token_hash"] == hashlib.sha256(second["refresh_token"].encode()).hexdigest()
    assert (
        row["previous_refresh_token_hash"]
        == hashlib.sha256(first["refresh_token"].encode()).hexdigest()
    )
    assert row["rotated_at"] >= before - timedelta(seconds=1)
    assert row["last_used_at"] == row["rotated_at"]


async def test_refresh_after_a_role_change_issues_tokens_with_the_new_roles(
    client: httpx.AsyncClient, settings: Settings, sql: Sql
) -> None:
    first = await signed_in(client)
    await sql("UPDATE users SET roles = ARRAY['user', 'admin']")
    response = await refresh(client, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()["data"]
    for token, key in (
        (second["access_token"], "ACCESS_TOKEN_SIGNING_KEY"),
        (second["refresh_token"], "REFRESH_TOKEN_SIGNING_KEY"),
    ):
        assert decode(token, settings, key)["roles"] == ["user", "admin"]
    # The stored digest is that of the token handed out, so it rotates again.
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text
    assert decode(third.json()["data"]["access_token"], settings, "ACCESS_TOKEN_SIGNING_KEY")[
        "roles"
    ] == ["user", "admin"]


@pytest.mark.parametrize("which", ["garbage", "access-token"])
async def test_refresh_with_a_token_that_is_not_a_refresh_token_is_401(
    client: httpx.AsyncClient, sql: Sql, which: str
) -> None:
    pair = await signed_in(client)
    token = "not.a.jwt" if which == "garbage" else pair["access_token"]
    response = await refresh(client, token)
    body = assert_problem(response, 401)
    assert token not in str(body)
    [row] = await sql("SELECT revoked_at FROM user_sessions")
    assert row["revoked_at"] is None


# --- logout, me -----------------------------------------------------------------------


async def test_logout_kills_the_access_token_at_once(client: httpx.AsyncClient, sql: Sql) -> None:
    pair = await signed_in(client)
    headers = bearer(pair["access_token"])
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200

    response = await client.post("/api/auth/logout", headers=headers)

    assert response.status_code == 204
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"
    [row] = await sql("SELECT revoked_at FROM user_sessions")
    assert row["revoked_at"] is not None
    after = await client.get("/api/auth/me", headers=headers)
    assert_problem(after, 401)
    assert after.headers["www-authenticate"] == "Bearer"


async def test_logout_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/logout")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_me_returns_the_current_user(client: httpx.AsyncClient) -> None:
    user = (await register(client, full_name="Ada")).json()["data"]
    pair = (await login(client)).json()["data"]
    response = await client.get("/api/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["data"] == user


# --- sessions -------------------------------------------------------------------------


async def test_sessions_lists_active_sessions_with_the_login_fingerprint(
    client: httpx.AsyncClient,
) -> None:
    mac = await signed_in(client, user_agent=CHROME_MAC)
    windows = (await login(client, user_agent=FIREFOX_WINDOWS)).json()["data"]
    gone = (await login(client, user_agent=FIREFOX_WINDOWS)).json()["data"]
    await client.post("/api/auth/logout", headers=bearer(gone["access_token"]))

    response = await client.get("/api/auth/sessions", headers=bearer(mac["access_token"]))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    sessions = {item["id"]: item for item in response.json()["data"]}
    assert set(sessions) == {mac["session_id"], windows["session_id"]}
    assert sessions[mac["session_id"]]["fingerprint"] == "desktop | macOS | Chrome"
    assert sessions[windows["session_id"]]["fingerprint"] == "desktop | Windows | Firefox"
    assert sessions[mac["session_id"]]["current"] is True
    assert sessions[windows["session_id"]]["current"] is False
    for item in sessions.values():
        assert set(item) == {"id", "fingerprint", "ip", "created_at", "last_used_at", "current"}
        assert item["ip"] == "127.0.0.1"
        datetime.fromisoformat(item["created_at"])
        datetime.fromisoformat(item["last_used_at"])


async def test_sessions_do_not_show_other_users_sessions(client: httpx.AsyncClient) -> None:
    ada = await signed_in(client, "ada@example.com")
    await signed_in(client, "bob@example.com")
    response = await client.get("/api/auth/sessions", headers=bearer(ada["access_token"]))
    assert [item["id"] for item in response.json()["data"]] == [ada["session_id"]]


async def test_delete_session_revokes_one_of_mine(client: httpx.AsyncClient) -> None:
    mine = await signed_in(client)
    other = (await login(client, user_agent=FIREFOX_WINDOWS)).json()["data"]
    headers = bearer(mine["access_token"])

    response = await client.delete(f"/api/auth/sessions/{other['session_id']}", headers=headers)

    assert response.status_code == 204
    assert response.headers["cache-control"] == "no-store"
    listed = (await client.get("/api/auth/sessions", headers=headers)).json()["data"]
    assert [item["id"] for item in listed] == [mine["session_id"]]
    revoked = await client.get("/api/auth/me", headers=bearer(other["access_token"]))
    assert revoked.status_code == 401
    assert (await client.get("/api/auth/me", headers=headers)).status_code == 200


async def test_delete_another_users_session_is_404(client: httpx.AsyncClient, sql: Sql) -> None:
    ada = await signed_in(client, "ada@example.com")
    bob = await signed_in(client, "bob@example.com")

    response = await client.delete(
        f"/api/auth/sessions/{bob['session_id']}", headers=bearer(ada["access_token"])
    )

    assert_problem(response, 404)
    rows = await sql("SELECT revoked_at FROM user_sessions WHERE id = :id", id=bob["session_id"])
    assert rows == [{"revoked_at": None}]
    missing = await client.delete(
        f"/api/auth/sessions/{uuid.uuid4()}", headers=bearer(ada["access_token"])
    )
    assert_problem(missing, 404)


async def test_delete_session_with_a_malformed_id_is_422(client: httpx.AsyncClient) -> None:
    pair = await signed_in(client)
    response = await client.delete(
        "/api/auth/sessions/not-a-uuid", headers=bearer(pair["access_token"])
    )
    assert_problem(response, 422)


# --- rate limiting ----------------------------------------------------------------------


async def test_login_is_rate_limited_per_ip(make_client: ClientFactory) -> None:
    async with make_client(RATE_LIMIT_LOGIN_PER_IP="3/minute") as client:
        responses = [await login(client, f"user{n}@example.com") for n in range(4)]
    assert [response.status_code for response in responses] == [401, 401, 401, 429]
    assert responses[-1].headers["cache-control"] == "no-store"


async def test_login_is_rate_limited_per_email(make_client: ClientFactory) -> None:
    async with make_client(RATE_LIMIT_LOGIN_PER_EMAIL="2/minute") as client:
        statuses = [(await login(client, "ada@example.com")).status_code for _ in range(3)]
        other = await login(client, "bob@example.com")
    assert statuses == [401, 401, 429]
    assert other.status_code == 401


async def test_register_is_rate_limited_per_ip(make_client: ClientFactory) -> None:
    async with make_client(RATE_LIMIT_REGISTER_PER_IP="2/hour") as client:
        statuses = [(await register(client, f"user{n}@example.com")).status_code for n in range(3)]
    assert statuses == [201, 201, 429]


async def test_refresh_is_rate_limited_per_session(make_client: ClientFactory) -> None:
    async with make_client(RATE_LIMIT_REFRESH_PER_SESSION="2/minute") as client:
        token = (await signed_in(client))["refresh_token"]
        statuses = []
        for _ in range(3):
            response = await refresh(client, token)
            statuses.append(response.status_code)
            if response.status_code == 200:
                token = response.json()["data"]["refresh_token"]
        other_session = (await login(client)).json()["data"]
        other = await refresh(client, other_session["refresh_token"])
    assert statuses == [200, 200, 429]
    assert other.status_code == 200
    assert "refresh-session" in other.headers["ratelimit-policy"]


async def test_refresh_is_rate_limited_per_ip(make_client: ClientFactory) -> None:
    async with make_client(RATE_LIMIT_REFRESH_PER_IP="2/minute") as client:
        statuses = [(await refresh(client, f"not-a-token-{n}")).status_code for n in range(3)]
    assert statuses == [401, 401, 429]


async def test_login_holds_no_connection_while_waiting_for_the_hash_pool(
    make_client: ClientFactory,
) -> None:
    """A login queued behind a busy Argon2 pool must not keep a pooled connection."""
    async with make_client(PASSWORD_HASH_CONCURRENCY=1) as client:
        await register(client)
        app = client.app  # type: ignore[attr-defined]
        hash_pool = app.state.password_security._executor
        taken, busy = threading.Event(), threading.Event()

        def occupy() -> None:
            taken.set()
            busy.wait(30)

        occupant = hash_pool.submit(occupy)  # the only hashing thread, taken
        try:
            await asyncio.to_thread(taken.wait, 30)
            pending = asyncio.create_task(login(client))
            while hash_pool._work_queue.qsize() == 0:  # until the login's verify is queued
                assert not pending.done(), pending.result().text
                await asyncio.sleep(0.01)
            held = app.state.engine.pool.checkedout()
        finally:
            busy.set()
        response = await pending
        occupant.result()
    assert held == 0
    assert response.status_code == 200


async def test_a_login_rehashes_a_password_stored_with_weaker_argon2_parameters(
    client: httpx.AsyncClient, settings: Settings, sql: Sql
) -> None:
    """The rehash is the login's one write in a unit of work of its own: it must land."""
    await register(client)
    weaker = PasswordHasher(time_cost=1, memory_cost=8_192, parallelism=1)
    await sql("UPDATE users SET password_hash = :weaker", weaker=weaker.hash(PASSWORD))

    assert (await login(client)).status_code == 200

    [row] = await sql("SELECT password_hash FROM users")
    ours = f"m={settings.ARGON2_MEMORY_COST_KIB},t={settings.ARGON2_TIME_COST}"
    assert ours in row["password_hash"]
    assert PasswordHasher().verify(row["password_hash"], PASSWORD)
    # The new hash serves the next login, and the session of the first one was stored.
    assert (await login(client)).status_code == 200
    [count] = await sql("SELECT count(*) AS n FROM user_sessions")
    assert count["n"] == 2
