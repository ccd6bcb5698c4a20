"""The session cache seen through HTTP: most authenticated requests skip the database, yet
every change that ends a session or alters its user reaches them within a second, whoever
writes it.

SessionCache alone is tested in test_session_cache.py, what keeps it honest in
test_cache_listener.py."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from fastapi import FastAPI

from app.auth.cache_listener import APPLICATION_NAME
from app.core.metrics.prometheus import prometheus
from tests.auth.conftest import bearer, signed_in

Sql = Callable[..., Awaitable[list[dict[str, Any]]]]


LISTENER_PID = (
    "SELECT pid FROM pg_stat_activity "
    "WHERE application_name = :name AND datname = current_database()"
)


def selects_run() -> float:
    count = prometheus.registry.get_sample_value(
        "db_postgres_query_duration_seconds_count", {"operation": "SELECT"}
    )
    return count or 0.0


async def cache_listening(app: FastAPI, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not app.state.session_cache.trusted:
        assert time.monotonic() < deadline, "the cache listener did not start"
        await asyncio.sleep(0.02)


async def me_within(
    client: httpx.AsyncClient, token: str, expect: Callable[[httpx.Response], bool], within: float
) -> httpx.Response:
    """GET /me until `expect` holds or `within` seconds passed; the last response."""
    deadline = time.monotonic() + within
    while True:
        response = await client.get("/api/auth/me", headers=bearer(token))
        if expect(response) or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.02)


def unauthorized(response: httpx.Response) -> bool:
    return response.status_code == 401


async def test_a_cached_caller_costs_no_query(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> None:
    await cache_listening(app_of(client))
    token = (await signed_in(client))["access_token"]
    first = await client.get("/api/auth/me", headers=bearer(token))
    before = selects_run()
    again = [await client.get("/api/auth/me", headers=bearer(token)) for _ in range(5)]
    assert selects_run() == before
    assert [response.json()["data"] for response in again] == [first.json()["data"]] * 5


async def test_logout_ends_the_cached_session_for_the_next_request(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> None:
    await cache_listening(app_of(client))
    token = (await signed_in(client))["access_token"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
    assert (await client.post("/api/auth/logout", headers=bearer(token))).status_code == 204
    assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401


async def test_a_revocation_written_elsewhere_reaches_the_cache_within_a_second(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI], sql: Sql
) -> None:
    await cache_listening(app_of(client))
    pair = await signed_in(client)
    assert (await client.get("/api/auth/me", headers=bearer(pair["access_token"]))).is_success
    await sql("UPDATE user_sessions SET revoked_at = now() WHERE id = :id", id=pair["session_id"])
    response = await me_within(client, pair["access_token"], unauthorized, within=1.0)
    assert response.status_code == 401


async def test_a_deactivation_written_elsewhere_reaches_the_cache_within_a_second(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI], sql: Sql
) -> None:
    await cache_listening(app_of(client))
    token = (await signed_in(client, "grace@example.com"))["access_token"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).is_success
    await sql("UPDATE users SET is_active = false WHERE email = 'grace@example.com'")
    assert (await me_within(client, token, unauthorized, within=1.0)).status_code == 401


async def test_a_role_change_written_elsewhere_shows_on_me_within_a_second(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI], sql: Sql
) -> None:
    await cache_listening(app_of(client))
    token = (await signed_in(client, "alan@example.com"))["access_token"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).json()["data"]["roles"] == [
        "user"
    ]
    await sql("UPDATE users SET roles = ARRAY['user', 'admin'] WHERE email = 'alan@example.com'")
    response = await me_within(
        client, token, lambda r: r.json()["data"]["roles"] != ["user"], within=1.0
    )
    assert response.json()["data"]["roles"] == ["user", "admin"]


async def test_a_lost_listener_connection_empties_the_cache_before_it_is_trusted_again(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI], sql: Sql
) -> None:
    """Notifications sent while nobody listened are lost: nothing cached before counts."""
    app = app_of(client)
    await cache_listening(app)
    token = (await signed_in(client))["access_token"]
    assert (await client.get("/api/auth/me", headers=bearer(token))).is_success
    [old] = await sql(LISTENER_PID, name=APPLICATION_NAME)
    await sql("SELECT pg_terminate_backend(:pid)", pid=old["pid"])
    deadline = time.monotonic() + 5.0
    while True:
        await asyncio.sleep(0.05)
        rows = await sql(LISTENER_PID, name=APPLICATION_NAME)
        if rows and rows[0]["pid"] != old["pid"] and app.state.session_cache.trusted:
            break
        assert time.monotonic() < deadline, "the listener did not reconnect"
    before = selects_run()
    assert (await client.get("/api/auth/me", headers=bearer(token))).is_success
    assert selects_run() > before


async def test_without_the_cache_every_request_reads_the_database(
    make_client: Callable[..., Any], sql: Sql
) -> None:
    async with make_client(AUTH_CACHE_MAX_ENTRIES=0) as client:
        pair = await signed_in(client)
        before = selects_run()
        assert (await client.get("/api/auth/me", headers=bearer(pair["access_token"]))).is_success
        assert selects_run() > before
