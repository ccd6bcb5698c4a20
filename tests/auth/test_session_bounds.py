"""Sessions stay bounded: a cap per user, dead rows purged, the list paginated."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.auth.conftest import ClientFactory, bearer, login, register, signed_in

Sql = Callable[..., Any]


async def test_a_login_beyond_the_cap_revokes_the_oldest_sessions(
    make_client: ClientFactory, sql: Sql
) -> None:
    async with make_client(MAX_SESSIONS_PER_USER=2) as client:
        pairs = [await signed_in(client) for _ in range(3)]
        statuses = [
            (await client.get("/api/auth/me", headers=bearer(pair["access_token"]))).status_code
            for pair in pairs
        ]
        someone_else = await signed_in(client, "bob@example.com")
        rows = await sql("SELECT id, revoked_at FROM user_sessions")
    assert statuses == [401, 200, 200]
    live = {str(row["id"]) for row in rows if row["revoked_at"] is None}
    assert live == {pairs[1]["session_id"], pairs[2]["session_id"], someone_else["session_id"]}


async def test_dead_sessions_are_purged_in_the_background(
    make_client: ClientFactory, sql: Sql
) -> None:
    async with make_client(
        SESSION_PURGE_RETENTION_DAYS=7, SESSION_PURGE_INTERVAL_SECONDS=0.05
    ) as client:
        await register(client)
        ids = [(await login(client)).json()["data"]["session_id"] for _ in range(4)]
        long_revoked, long_expired, just_revoked, live = ids
        # One statement, so no purge round can see one row dead and not the other.
        await sql(
            "UPDATE user_sessions SET"
            " revoked_at = CASE WHEN id = :revoked THEN now() - interval '8 days'"
            " WHEN id = :just THEN now() ELSE revoked_at END,"
            " expires_at = CASE WHEN id = :expired THEN now() - interval '8 days'"
            " ELSE expires_at END",
            revoked=uuid.UUID(long_revoked),
            just=uuid.UUID(just_revoked),
            expired=uuid.UUID(long_expired),
        )
        for _ in range(200):  # until a purge round ran after the update (10 s at most)
            remaining = {str(row["id"]) for row in await sql("SELECT id FROM user_sessions")}
            if len(remaining) < len(ids):
                break
            await asyncio.sleep(0.05)
        exposition = (await client.get("/metrics")).text
    assert remaining == {just_revoked, live}
    assert 'background_job_runs_total{job_name="purge_dead_sessions"}' in exposition


async def sessions_page(client: httpx.AsyncClient, token: str, **params: Any) -> httpx.Response:
    return await client.get("/api/auth/sessions", params=params, headers=bearer(token))


async def test_sessions_are_listed_a_page_at_a_time(client: httpx.AsyncClient) -> None:
    pairs = [await signed_in(client) for _ in range(5)]
    token = pairs[-1]["access_token"]
    seen: list[str] = []
    cursors: list[str | None] = []
    params: dict[str, Any] = {"limit": 2}
    while True:
        response = await sessions_page(client, token, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["data"]) <= 2
        seen += [session["id"] for session in body["data"]]
        cursors.append(body["meta"]["next_cursor"])
        if body["meta"]["next_cursor"] is None:
            break
        params["cursor"] = body["meta"]["next_cursor"]
    assert len(cursors) == 3
    assert sorted(seen) == sorted(pair["session_id"] for pair in pairs)


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 101}, {"cursor": "not-a-cursor"}, {"cursor": "bm9wZQ"}]
)
async def test_sessions_with_a_bad_page_request_is_422(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    pair = await signed_in(client)
    response = await sessions_page(client, pair["access_token"], **params)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
