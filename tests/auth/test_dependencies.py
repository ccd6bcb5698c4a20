"""The current-user dependencies (HTTP and WebSocket), require_roles, and user_id in logs."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.auth.dependencies import require_roles
from app.auth.service import CurrentSession
from tests.auth.conftest import ClientFactory, bearer, log_records, signed_in, within_a_second

Sql = Callable[..., Any]
LiveServer = Callable[..., AbstractAsyncContextManager[str]]

POLICY_VIOLATION = 1008


# --- get_current_user_session ---------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    ["", "Bearer", "Bearer not-a-jwt", "Basic YWRhOnB3", "Bearer a.b.c"],
    ids=["none", "empty-bearer", "garbage", "basic", "three-parts"],
)
async def test_missing_or_invalid_bearer_is_401_problem(
    client: httpx.AsyncClient, authorization: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await client.get("/api/auth/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["status"] == 401


async def test_a_refresh_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    pair = await signed_in(client)
    response = await client.get("/api/auth/me", headers=bearer(pair["refresh_token"]))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "change",
    ["DELETE FROM users", "UPDATE users SET is_active = false"],
    ids=["deleted-user", "disabled-user"],
)
async def test_a_token_of_a_user_who_is_gone_is_401(
    client: httpx.AsyncClient, sql: Sql, change: str
) -> None:
    pair = await signed_in(client)
    await sql(change)
    response = await client.get("/api/auth/me", headers=bearer(pair["access_token"]))
    assert response.status_code == 401


async def test_activity_updates_last_used_at(client: httpx.AsyncClient, sql: Sql) -> None:
    pair = await signed_in(client)
    await sql("UPDATE user_sessions SET last_used_at = now() - interval '1 hour'")
    [before] = await sql("SELECT last_used_at FROM user_sessions")
    assert (
        await client.get("/api/auth/me", headers=bearer(pair["access_token"]))
    ).status_code == 200
    [after] = await sql("SELECT last_used_at FROM user_sessions")
    assert after["last_used_at"] > before["last_used_at"]


# --- require_roles --------------------------------------------------------------------


def add_admin_route(application: FastAPI) -> None:
    router = APIRouter()

    @router.get("/test/admin")
    async def admin_only(
        current: Annotated[CurrentSession, Depends(require_roles("admin"))],
    ) -> dict[str, str]:
        return {"user_id": str(current.user.id)}

    application.include_router(router)


async def test_require_roles_answers_403_when_a_role_is_missing(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI], sql: Sql
) -> None:
    add_admin_route(app_of(client))
    pair = await signed_in(client)
    headers = bearer(pair["access_token"])

    denied = await client.get("/test/admin", headers=headers)

    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    body = denied.json()
    assert body["status"] == 403
    assert body["errors"] == [{"missing_roles": ["admin"]}]

    await sql("UPDATE users SET roles = ARRAY['user', 'admin']")

    async def admin_status() -> int:
        return (await client.get("/test/admin", headers=headers)).status_code

    assert await within_a_second(admin_status, 200) == 200
    assert (await client.get("/test/admin")).status_code == 401


# --- user_id in logs ------------------------------------------------------------------


async def test_log_lines_of_an_authenticated_request_carry_its_user_id(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    log_dir = tmp_path / "request-logs"
    async with make_client(LOG_DIR=log_dir, LOG_LEVEL="INFO") as client:
        pair = await signed_in(client)
        user_id = (await client.get("/api/auth/me", headers=bearer(pair["access_token"]))).json()[
            "data"
        ]["id"]
        authenticated = await client.get(
            "/api/auth/sessions",
            headers={**bearer(pair["access_token"]), "X-Request-ID": "req-authenticated-1"},
        )
        assert authenticated.status_code == 200
        anonymous = await client.get("/health", headers={"X-Request-ID": "req-anonymous-2"})
        assert anonymous.status_code == 200
    records = log_records(log_dir)
    mine = [r for r in records if r.get("request_id") == "req-authenticated-1"]
    assert mine, "the authenticated request wrote no log line"
    assert all(r.get("user_id") == user_id for r in mine)
    # The same client's next, anonymous request must not inherit the user id.
    later = [r for r in records if r.get("request_id") == "req-anonymous-2"]
    assert later, "the anonymous request wrote no log line"
    assert all("user_id" not in r for r in later)


# --- WebSocket ------------------------------------------------------------------------


@asynccontextmanager
async def account(base: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, Any]]]:
    async with httpx.AsyncClient(base_url=f"http://{base}") as http:
        yield http, await signed_in(http)


async def closed_code(socket: ClientConnection) -> int | None:
    """The close code the server sent, once the connection ends."""
    with pytest.raises(ConnectionClosed) as closed:
        await socket.recv()
    return closed.value.rcvd.code if closed.value.rcvd else None


def with_bearer(base: str, token: str) -> connect:
    """Connect offering the token the way browsers can: as the second subprotocol."""
    return connect(f"ws://{base}/api/auth/ws", subprotocols=["bearer", token])


async def test_websocket_greets_with_ids_and_echoes(live_server: LiveServer) -> None:
    async with live_server() as base, account(base) as (http, pair):
        me = await http.get("/api/auth/me", headers=bearer(pair["access_token"]))
        async with with_bearer(base, pair["access_token"]) as socket:
            assert socket.subprotocol == "bearer"
            greeting = json.loads(await socket.recv())
            assert greeting == {
                "user_id": me.json()["data"]["id"],
                "session_id": pair["session_id"],
            }
            await socket.send("hello")
            assert await socket.recv() == "hello"
            await socket.send(b"\x00\x01")
            assert await socket.recv() == b"\x00\x01"


async def test_websocket_accepts_the_token_as_a_query_parameter(live_server: LiveServer) -> None:
    async with live_server() as base, account(base) as (http, pair):
        user_id = (await http.get("/api/auth/me", headers=bearer(pair["access_token"]))).json()[
            "data"
        ]["id"]
        async with connect(f"ws://{base}/api/auth/ws?token={pair['access_token']}") as socket:
            assert socket.subprotocol is None
            assert json.loads(await socket.recv())["user_id"] == user_id


@pytest.mark.parametrize("how", ["no-token", "bad-subprotocol-token", "bad-query-token"])
async def test_websocket_closes_with_1008_on_a_bad_token(live_server: LiveServer, how: str) -> None:
    async with live_server() as base:
        url, subprotocols = f"ws://{base}/api/auth/ws", None
        if how == "bad-subprotocol-token":
            subprotocols = ["bearer", "not.a.token"]
        elif how == "bad-query-token":
            url += "?token=not.a.token"
        async with connect(url, subprotocols=subprotocols) as socket:
            assert await closed_code(socket) == POLICY_VIOLATION


async def test_websocket_closes_with_1008_after_logout(live_server: LiveServer) -> None:
    async with live_server() as base, account(base) as (http, pair):
        logout = await http.post("/api/auth/logout", headers=bearer(pair["access_token"]))
        assert logout.status_code == 204
        async with with_bearer(base, pair["access_token"]) as socket:
            assert await closed_code(socket) == POLICY_VIOLATION


async def test_websocket_log_lines_carry_the_user_id(
    live_server: LiveServer, tmp_path: Path
) -> None:
    log_dir = tmp_path / "ws-logs"
    async with (
        live_server(LOG_DIR=log_dir, LOG_LEVEL="INFO") as base,
        account(base) as (_, pair),
        with_bearer(base, pair["access_token"]) as socket,
    ):
        user_id = json.loads(await socket.recv())["user_id"]
    connected = [r for r in log_records(log_dir) if r.get("message") == "websocket_connected"]
    assert [r.get("user_id") for r in connected] == [user_id]


async def test_a_pooled_connection_that_died_costs_a_retry_not_a_503(
    make_client: ClientFactory, sql: Callable[..., Any]
) -> None:
    """The pool does not ping at checkout; authentication retries on a fresh connection."""
    async with make_client(AUTH_CACHE_MAX_ENTRIES=0) as client:
        token = (await signed_in(client))["access_token"]
        assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200
        killed = await sql(
            "SELECT pg_terminate_backend(pid) AS done FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        assert killed  # the app's pooled connection(s) were cut
        response = await client.get("/api/auth/me", headers=bearer(token))
        assert response.status_code == 200, response.text
