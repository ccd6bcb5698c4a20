"""SIGTERM while requests are in flight, against a real `python -m app`.

In-flight requests complete, background tasks stop, the process exits 0 within the
graceful timeout, and the log holds exactly one access line per answered request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from tests.system.app_process import AppProcess

pytestmark = pytest.mark.slow

SHUTDOWN_TIMEOUT_SECONDS = 5
IN_FLIGHT_LOGINS = 12


async def _login(client: httpx.AsyncClient, number: int) -> httpx.Response:
    # An unknown account still costs a full Argon2 verify: a slow request to be in flight.
    return await client.post(
        "/api/auth/login",
        json={"email": f"nobody-{number}@example.com", "password": "not-the-password"},
    )


async def _steady(client: httpx.AsyncClient, answered: list[str], stop: asyncio.Event) -> None:
    """Liveness requests one after another until the server stops taking them."""
    while not stop.is_set():
        try:
            response = await client.get("/health")
        except httpx.TransportError:
            return  # the server closed the connection or no longer listens
        assert response.status_code == 200
        answered.append(response.headers["x-request-id"])


async def test_sigterm_finishes_in_flight_requests_and_exits_zero(
    start_app: Callable[..., AppProcess],
) -> None:
    app = start_app(
        RATE_LIMIT_ENABLED="false", SHUTDOWN_TIMEOUT_SECONDS=str(SHUTDOWN_TIMEOUT_SECONDS)
    )
    answered: list[str] = []
    stop = asyncio.Event()
    async with httpx.AsyncClient(
        base_url=app.url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)
    ) as logins_client:
        steady_clients = [httpx.AsyncClient(base_url=app.url, timeout=30) for _ in range(4)]
        steady = [asyncio.create_task(_steady(c, answered, stop)) for c in steady_clients]
        logins = [
            asyncio.create_task(_login(logins_client, number)) for number in range(IN_FLIGHT_LOGINS)
        ]
        await asyncio.sleep(0.5)  # every login is sent and being hashed (2 at a time)

        app.terminate()
        signalled = time.monotonic()
        responses = await asyncio.gather(*logins)
        exit_code = await asyncio.to_thread(app.wait, SHUTDOWN_TIMEOUT_SECONDS + 5)
        elapsed = time.monotonic() - signalled
        stop.set()
        await asyncio.gather(*steady)
        for client in steady_clients:
            await client.aclose()

    assert [response.status_code for response in responses] == [401] * IN_FLIGHT_LOGINS
    answered += [response.headers["x-request-id"] for response in responses]
    assert exit_code == 0, app.stderr()
    assert elapsed < SHUTDOWN_TIMEOUT_SECONDS + 2

    records = list(app.log_records())
    logged = [record["request_id"] for record in records if record["message"] == "request"]
    assert sorted(logged) == sorted(answered + app.probe_request_ids)
    assert any(record["message"] == "shutdown_complete" for record in records)
