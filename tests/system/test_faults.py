"""The service under dependency failures: PostgreSQL or Redis gone, then back.

A TCP proxy stands between the app and the shared servers; the tests cut it, never the
servers themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest

from tests.system.conftest import proxied_postgres, proxied_redis_url
from tests.system.tcp_proxy import TcpProxy

MakeClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

pytestmark = pytest.mark.slow

COMMAND_TIMEOUT_SECONDS = 2.0


async def _eventually_ready(client: httpx.AsyncClient, within: float) -> httpx.Response:
    deadline = time.monotonic() + within
    while True:
        response = await client.get("/health/ready")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("failure", ["cut", "blackhole"])
async def test_readiness_reports_a_postgres_outage_within_two_seconds_and_recovers(
    make_client: MakeClient, postgres_proxy: TcpProxy, failure: str
) -> None:
    async with make_client(**proxied_postgres(postgres_proxy)) as client:
        assert (await client.get("/health/ready")).status_code == 200

        getattr(postgres_proxy, failure)()
        started = time.perf_counter()
        response = await client.get("/health/ready")
        elapsed = time.perf_counter() - started

        assert response.status_code == 503
        assert elapsed < 2.0
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 503
        assert [error["check"] for error in body["errors"]] == ["postgres"]

        postgres_proxy.restore()
        assert (await _eventually_ready(client, within=5.0)).status_code == 200


def _is_problem(response: httpx.Response, status: int) -> bool:
    body = response.json()
    return (
        response.headers["content-type"].startswith("application/problem+json")
        and body["status"] == status
        and "Traceback" not in response.text
    )


@pytest.mark.parametrize("failure", ["cut", "blackhole"])
async def test_api_calls_needing_postgres_answer_503_during_an_outage_then_recover(
    make_client: MakeClient, postgres_proxy: TcpProxy, failure: str
) -> None:
    account = {"email": "outage@example.com", "password": "correct horse battery"}
    async with make_client(
        **proxied_postgres(postgres_proxy),
        POSTGRES_COMMAND_TIMEOUT_SECONDS=COMMAND_TIMEOUT_SECONDS,
        RATE_LIMIT_ENABLED=False,
    ) as client:
        assert (await client.post("/api/auth/register", json=account)).status_code == 201

        getattr(postgres_proxy, failure)()
        started = time.perf_counter()
        login = await client.post("/api/auth/login", json=account)
        register = await client.post(
            "/api/auth/register", json={**account, "email": "second@example.com"}
        )
        elapsed = time.perf_counter() - started

        assert login.status_code == 503
        assert _is_problem(login, 503)
        assert int(login.headers["retry-after"]) > 0
        assert register.status_code == 503
        assert _is_problem(register, 503)
        # A silent network costs each call its timeouts (ping, then connect), never a hang.
        assert elapsed < 2 * (2 * COMMAND_TIMEOUT_SECONDS + 3)

        postgres_proxy.restore()
        assert (await _eventually_ready(client, within=5.0)).status_code == 200
        assert (await client.post("/api/auth/login", json=account)).status_code == 200


LOGIN_LIMIT = 5


async def _logins(client: httpx.AsyncClient, first: int, count: int) -> list[int]:
    """`count` failed logins, each for another address (only the per-IP rule applies)."""
    statuses = []
    for number in range(first, first + count):
        response = await client.post(
            "/api/auth/login",
            json={"email": f"user-{number}@example.com", "password": "wrong-password"},
        )
        assert response.status_code < 500, response.text
        statuses.append(response.status_code)
    return statuses


@pytest.mark.parametrize("failure", ["cut", "blackhole"])
async def test_login_limit_holds_in_process_while_redis_is_down_and_redis_counts_again_after(
    make_client: MakeClient, redis_proxy: TcpProxy, failure: str
) -> None:
    async with make_client(
        REDIS_URL=proxied_redis_url(redis_proxy),
        RATE_LIMIT_LOGIN_PER_IP=f"{LOGIN_LIMIT}/minute",
        RATE_LIMIT_REDIS_RETRY_SECONDS=1.0,
    ) as client:
        assert await _logins(client, 0, 2) == [401, 401]  # counted in Redis

        getattr(redis_proxy, failure)()
        started = time.perf_counter()
        during = await _logins(client, 100, 2 * LOGIN_LIMIT)
        elapsed = time.perf_counter() - started
        # The in-process fallback starts from zero: the limit holds, per process.
        assert during == [401] * LOGIN_LIMIT + [429] * LOGIN_LIMIT
        assert elapsed < 5.0  # one failed Redis attempt per retry interval, not per request

        redis_proxy.restore()
        await asyncio.sleep(1.2)  # the limiter tries Redis again after its retry interval
        # Redis still holds the 2 hits from before the outage.
        assert await _logins(client, 200, 4) == [401, 401, 401, 429]


def _behind(proxy: TcpProxy) -> dict[str, Any]:
    """Settings for an app whose database traffic goes through `proxy`."""
    return {
        **proxied_postgres(proxy),
        "POSTGRES_COMMAND_TIMEOUT_SECONDS": COMMAND_TIMEOUT_SECONDS,
        "RATE_LIMIT_ENABLED": False,
    }


async def _signed_in_headers(client: httpx.AsyncClient) -> dict[str, str]:
    account = {"email": "commit@example.com", "password": "correct horse battery"}
    assert (await client.post("/api/auth/register", json=account)).status_code == 201
    response = await client.post("/api/auth/login", json=account)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['data']['access_token']}"}


async def test_a_database_lost_at_commit_answers_503(
    make_client: MakeClient, postgres_proxy: TcpProxy
) -> None:
    """The unit of work's COMMIT is a database step like any other: lost, it is a 503.

    The session cache is off: with it, /me answers from memory and reaches no COMMIT.
    """
    async with make_client(**_behind(postgres_proxy), AUTH_CACHE_MAX_ENTRIES=0) as client:
        headers = await _signed_in_headers(client)
        assert (await client.get("/api/auth/me", headers=headers)).status_code == 200

        postgres_proxy.cut_on(b"COMMIT")
        response = await client.get("/api/auth/me", headers=headers)

        assert postgres_proxy.mode.value == "cut"  # the request did reach its COMMIT
        assert response.status_code == 503, response.text
        assert _is_problem(response, 503)

        postgres_proxy.restore()
        assert (await _eventually_ready(client, within=5.0)).status_code == 200
        assert (await client.get("/api/auth/me", headers=headers)).status_code == 200


@pytest.mark.parametrize("failure", ["cut", "blackhole"])
async def test_a_database_lost_at_the_refresh_rotation_answers_503_and_the_token_still_works(
    make_client: MakeClient, postgres_proxy: TcpProxy, failure: str
) -> None:
    """The rotation runs on asyncpg directly (app.db.postgres.driver): its failures are 503s.

    The statement never reaches the server, so the presented token stays the current one.
    """
    account = {"email": "rotation@example.com", "password": "correct horse battery"}
    async with make_client(**_behind(postgres_proxy)) as client:
        assert (await client.post("/api/auth/register", json=account)).status_code == 201
        login = await client.post("/api/auth/login", json=account)
        refresh_token = login.json()["data"]["refresh_token"]

        if failure == "cut":
            postgres_proxy.cut_on(b"SET previous_refresh_token_hash")
        else:
            postgres_proxy.blackhole()
        response = await client.post("/api/auth/refresh", json={"refresh_token": refresh_token})

        assert postgres_proxy.mode.value == failure
        assert response.status_code == 503, response.text
        assert _is_problem(response, 503)

        postgres_proxy.restore()
        assert (await _eventually_ready(client, within=5.0)).status_code == 200
        again = await client.post("/api/auth/refresh", json={"refresh_token": refresh_token})
        assert again.status_code == 200, again.text


async def test_requests_in_flight_while_the_database_goes_and_comes_back_get_no_500(
    make_client: MakeClient, postgres_proxy: TcpProxy
) -> None:
    """16 clients loop on /me while the database is cut and restored: 200 or 503, never 500."""
    async with make_client(**_behind(postgres_proxy), LOG_ACCESS=False) as client:
        headers = await _signed_in_headers(client)
        statuses: list[int] = []
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                # In process, a request answered from the session cache never waits on
                # I/O, so without this the loops would starve `outages()` for good.
                await asyncio.sleep(0)
                response = await client.get("/api/auth/me", headers=headers)
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    assert _is_problem(response, response.status_code), response.text

        async def outages() -> None:
            # Cut and restore a few times, so that cuts land at every step of a request.
            for _ in range(4):
                await asyncio.sleep(0.3)
                postgres_proxy.cut()
                await asyncio.sleep(0.3)
                postgres_proxy.restore()
            await asyncio.sleep(0.5)
            stop.set()

        await asyncio.gather(outages(), *(loop() for _ in range(16)))

        assert 500 not in statuses, f"{statuses.count(500)} of {len(statuses)} were 500"
        assert set(statuses) == {200, 503}
        assert (await client.get("/api/auth/me", headers=headers)).status_code == 200
