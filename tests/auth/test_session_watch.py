"""SessionWatch alone: how long a WebSocket may stay open, given its token's `exp` and the
answers of its session checks.

The check is `AuthService.authenticate` against the real database, as `get_session_watch`
builds it, without a server; the watch over a real server is tested in
test_websocket_session.py.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from app.auth.schemas import LoginRequest, RegisterRequest
from app.auth.session_watch import TOKEN_EXPIRED, SessionWatch
from tests.auth.conftest import CHROME_DEVICE, PASSWORD, AuthWiring, WiringFactory

Sql = Callable[..., Any]


class CountedCheck:
    """The session check `get_session_watch` makes (authenticate the token), counted."""

    def __init__(self, wiring: AuthWiring, access_token: str) -> None:
        self.wiring = wiring
        self.access_token = access_token
        self.calls = 0

    async def __call__(self) -> object:
        self.calls += 1
        return await self.wiring.authenticate(self.access_token)


async def signed_in(wiring: AuthWiring) -> tuple[str, uuid.UUID]:
    """A new account's access token and session id."""
    async with wiring.unit_of_work() as service:
        await service.register(RegisterRequest(email="ada@example.com", password=PASSWORD))
    login = LoginRequest(email="ada@example.com", password=PASSWORD)
    pair = await wiring.standalone().login(login, device=CHROME_DEVICE)
    return pair.access_token, pair.session_id


async def watched_until_exp(check: CountedCheck, seconds: float = 0.4) -> None:
    """The watch lasts until the token's `exp`, `seconds` from now, checking meanwhile."""
    started = time.time()
    watch = SessionWatch(expires_at=started + seconds, check_every=0.05, check=check)
    assert await watch.wait_until_ended() == TOKEN_EXPIRED
    assert time.time() >= started + seconds
    assert check.calls >= 2


async def test_a_token_already_expired_ends_the_watch_without_a_check(
    auth_wiring: AuthWiring,
) -> None:
    check = CountedCheck(auth_wiring, (await signed_in(auth_wiring))[0])
    watch = SessionWatch(expires_at=time.time() - 1, check_every=0.01, check=check)
    assert await watch.wait_until_ended() == TOKEN_EXPIRED == "token expired"
    assert check.calls == 0


async def test_a_revoked_session_ends_the_watch_at_the_next_check(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    token, session_id = await signed_in(auth_wiring)
    check = CountedCheck(auth_wiring, token)
    watch = SessionWatch(expires_at=time.time() + 30, check_every=0.05, check=check)
    waiting = asyncio.ensure_future(watch.wait_until_ended())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    assert check.calls >= 1
    await sql("UPDATE user_sessions SET revoked_at = now() WHERE id = :id", id=session_id)
    assert await asyncio.wait_for(waiting, timeout=5) == "session expired or revoked"


async def test_a_live_session_is_watched_until_its_token_expires(
    auth_wiring: AuthWiring,
) -> None:
    await watched_until_exp(CountedCheck(auth_wiring, (await signed_in(auth_wiring))[0]))


async def test_a_database_that_cannot_answer_keeps_the_connection_until_exp(
    make_wiring: WiringFactory, closed_port: int
) -> None:
    async with make_wiring(POSTGRES_PORT=closed_port, POSTGRES_CONNECT_TIMEOUT_SECONDS=1) as down:
        token = down.tokens.create_access_token(uuid.uuid4(), ["user"], uuid.uuid4())
        await watched_until_exp(CountedCheck(down, token))


async def test_exp_ends_the_watch_before_a_check_that_would_come_later(
    auth_wiring: AuthWiring,
) -> None:
    check = CountedCheck(auth_wiring, (await signed_in(auth_wiring))[0])
    started = time.monotonic()
    watch = SessionWatch(expires_at=time.time() + 0.2, check_every=60, check=check)
    assert await watch.wait_until_ended() == TOKEN_EXPIRED
    assert time.monotonic() - started < 5
    assert check.calls == 0


async def test_the_watch_reads_time_from_its_clock(auth_wiring: AuthWiring) -> None:
    """A clock past `exp` ends the watch, whatever the wall clock says."""
    check = CountedCheck(auth_wiring, (await signed_in(auth_wiring))[0])
    now = time.time()
    ticks = iter([now, now + 120])
    watch = SessionWatch(
        expires_at=now + 60, check_every=0.01, check=check, clock=lambda: next(ticks)
    )
    assert await watch.wait_until_ended() == TOKEN_EXPIRED
    assert check.calls == 0
