"""A WebSocket lives no longer than its session: closed with 1008 when the session ends.

The server re-checks the session every WS_SESSION_CHECK_SECONDS and closes at the
access token's `exp` at the latest. Each test bounds its wait: a socket left open fails
the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.core.config import Settings
from app.core.security import JWTService
from tests.auth.conftest import CHROME_MAC, FIREFOX_WINDOWS, bearer, login, signed_in

Sql = Callable[..., Any]
LiveServer = Callable[..., AbstractAsyncContextManager[str]]

POLICY_VIOLATION = 1008
CHECK_SECONDS = 0.2
WAIT_SECONDS = 10.0  # far beyond the check interval; only a socket left open reaches it


async def close_code_after_greeting(socket: ClientConnection) -> int | None:
    """Read the greeting, then wait (bounded) for the server's close; its code."""
    json.loads(await socket.recv())

    async def closed() -> int | None:
        try:
            while True:
                await socket.recv()
        except ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None

    return await asyncio.wait_for(closed(), timeout=WAIT_SECONDS)


def open_socket(base: str, token: str) -> connect:
    return connect(f"ws://{base}/api/auth/ws", subprotocols=["bearer", token])


@asynccontextmanager
async def served(
    live_server: LiveServer, check_seconds: float = CHECK_SECONDS
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The app served with this session-check interval, and an HTTP client to it."""
    async with (
        live_server(WS_SESSION_CHECK_SECONDS=check_seconds) as base,
        httpx.AsyncClient(base_url=f"http://{base}") as http,
    ):
        yield base, http


async def test_websocket_is_closed_when_its_session_logs_out(live_server: LiveServer) -> None:
    async with served(live_server) as (base, http):
        pair = await signed_in(http)
        async with open_socket(base, pair["access_token"]) as socket:
            await socket.send("still here")
            logout = await http.post("/api/auth/logout", headers=bearer(pair["access_token"]))
            assert logout.status_code == 204
            assert await close_code_after_greeting(socket) == POLICY_VIOLATION


async def test_websocket_is_closed_when_its_session_is_revoked_elsewhere(
    live_server: LiveServer,
) -> None:
    async with served(live_server) as (base, http):
        laptop = await signed_in(http, user_agent=CHROME_MAC)
        phone = (await login(http, user_agent=FIREFOX_WINDOWS)).json()["data"]
        async with open_socket(base, phone["access_token"]) as socket:
            revoked = await http.delete(
                f"/api/auth/sessions/{phone['session_id']}",
                headers=bearer(laptop["access_token"]),
            )
            assert revoked.status_code == 204
            assert await close_code_after_greeting(socket) == POLICY_VIOLATION


async def test_websocket_is_closed_when_its_user_is_deactivated(
    live_server: LiveServer, sql: Sql
) -> None:
    async with served(live_server) as (base, http):
        pair = await signed_in(http)
        async with open_socket(base, pair["access_token"]) as socket:
            await sql("UPDATE users SET is_active = false")
            assert await close_code_after_greeting(socket) == POLICY_VIOLATION


async def test_websocket_is_closed_when_its_access_token_expires(
    live_server: LiveServer, settings: Settings
) -> None:
    """With session checks far apart, the token's `exp` alone ends the connection."""
    async with served(live_server, check_seconds=3600) as (base, http):
        pair = await signed_in(http)
        me = (await http.get("/api/auth/me", headers=bearer(pair["access_token"]))).json()
        short_lived = JWTService.from_settings(settings)
        short_lived.access_token_ttl_seconds = int(timedelta(seconds=2).total_seconds())
        token = short_lived.create_access_token(
            me["data"]["id"], me["data"]["roles"], pair["session_id"]
        )
        async with open_socket(base, token) as socket:
            assert await close_code_after_greeting(socket) == POLICY_VIOLATION


async def test_websocket_stays_open_while_its_session_lives(live_server: LiveServer) -> None:
    """The checks themselves do not end a live session's connection."""
    async with served(live_server) as (base, http):
        pair = await signed_in(http)
        async with open_socket(base, pair["access_token"]) as socket:
            json.loads(await socket.recv())
            for n in range(4):
                await asyncio.sleep(CHECK_SECONDS)
                await socket.send(f"ping {n}")
                assert await asyncio.wait_for(socket.recv(), WAIT_SECONDS) == f"ping {n}"
