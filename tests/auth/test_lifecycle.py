"""Account lifecycle through HTTP: deactivation, password change, log out everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.auth.conftest import (
    FIREFOX_WINDOWS,
    PASSWORD,
    ClientFactory,
    bearer,
    login,
    signed_in,
)

Sql = Callable[..., Any]
NEW_PASSWORD = "another horse battery staple"


async def me(client: httpx.AsyncClient, pair: dict[str, Any]) -> int:
    return (await client.get("/api/auth/me", headers=bearer(pair["access_token"]))).status_code


async def refresh(client: httpx.AsyncClient, pair: dict[str, Any]) -> int:
    response = await client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    return response.status_code


async def change_password(
    client: httpx.AsyncClient, pair: dict[str, Any], current: str, new: str
) -> httpx.Response:
    return await client.post(
        "/api/auth/password",
        json={"current_password": current, "new_password": new},
        headers=bearer(pair["access_token"]),
    )


# --- deactivation -------------------------------------------------------------------------


async def test_deactivating_a_user_revokes_its_sessions_for_good(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    first = await signed_in(client)
    second = await signed_in(client, user_agent=FIREFOX_WINDOWS)
    await sql("UPDATE users SET is_active = false")
    assert [row["revoked_at"] is not None for row in await sql("SELECT * FROM user_sessions")] == [
        True,
        True,
    ]
    await sql("UPDATE users SET is_active = true")
    for pair in (first, second):
        assert await me(client, pair) == 401
        assert await refresh(client, pair) == 401
    # A fresh login after reactivation works: only the old tokens are dead.
    assert (await login(client)).status_code == 200


async def test_other_updates_of_a_user_revoke_nothing(client: httpx.AsyncClient, sql: Sql) -> None:
    pair = await signed_in(client)
    await sql("UPDATE users SET full_name = 'Ada', is_active = true")
    assert await me(client, pair) == 200


# --- password change ----------------------------------------------------------------------


async def test_password_change_revokes_the_other_sessions_and_keeps_this_one(
    client: httpx.AsyncClient,
) -> None:
    this = await signed_in(client)
    other = await signed_in(client, user_agent=FIREFOX_WINDOWS)
    response = await change_password(client, this, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 204, response.text
    assert response.headers["cache-control"] == "no-store"
    assert await me(client, this) == 200
    assert await me(client, other) == 401
    assert await refresh(client, other) == 401
    assert (await login(client, password=PASSWORD)).status_code == 401
    assert (await login(client, password=NEW_PASSWORD)).status_code == 200


async def test_password_change_needs_the_current_password(client: httpx.AsyncClient) -> None:
    pair = await signed_in(client)
    other = await signed_in(client, user_agent=FIREFOX_WINDOWS)
    response = await change_password(client, pair, "not the password", NEW_PASSWORD)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "current_password"]]
    assert await me(client, other) == 200
    assert (await login(client, password=PASSWORD)).status_code == 200


@pytest.mark.parametrize("new", ["short", "x" * 500])
async def test_password_change_applies_the_password_policy(
    client: httpx.AsyncClient, new: str
) -> None:
    pair = await signed_in(client)
    response = await change_password(client, pair, PASSWORD, new)
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["errors"]] == [["body", "new_password"]]
    assert (await login(client, password=PASSWORD)).status_code == 200


async def test_password_change_is_rate_limited_per_ip(make_client: ClientFactory) -> None:
    async with make_client(RATE_LIMIT_PASSWORD_PER_IP="2/minute") as client:
        pair = await signed_in(client)
        statuses = [
            (await change_password(client, pair, f"guess {n}", NEW_PASSWORD)).status_code
            for n in range(3)
        ]
    assert statuses == [422, 422, 429]


async def test_password_change_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 401


# --- log out everywhere -------------------------------------------------------------------


async def test_logout_all_revokes_every_session_of_the_user_only(
    client: httpx.AsyncClient,
) -> None:
    this = await signed_in(client)
    other = await signed_in(client, user_agent=FIREFOX_WINDOWS)
    someone_else = await signed_in(client, "bob@example.com")
    response = await client.post("/api/auth/logout-all", headers=bearer(this["access_token"]))
    assert response.status_code == 204
    for pair in (this, other):
        assert await me(client, pair) == 401
        assert await refresh(client, pair) == 401
    assert await me(client, someone_else) == 200
