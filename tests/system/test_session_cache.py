"""A revocation reaches the session cache of every worker and every instance within a second.

Each process caches authenticated callers; a logout served by one of them must end the
session everywhere. The TTL is set to an hour so only the invalidation can pass these.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.system.app_process import AppProcess

pytestmark = pytest.mark.slow

CACHE = {"AUTH_CACHE_TTL_SECONDS": "3600", "RATE_LIMIT_ENABLED": "false"}
PASSWORD = "correct horse battery staple"
ROUNDS = 24


def wait_for_listeners(app: AppProcess, processes: int) -> None:
    """Until every process (worker) logged that its cache listener is up."""
    app.wait_for_message("auth_cache_listener_up", processes, timeout=30.0)


async def sign_in(url: str) -> dict[str, Any]:
    account = {"email": f"{uuid.uuid4().hex}@example.com", "password": PASSWORD}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        assert (await client.post("/api/auth/register", json=account)).status_code == 201
        response = await client.post("/api/auth/login", json=account)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def me_statuses(url: str, token: str, times: int) -> list[int]:
    """GET /me `times` times, each on a new connection, so every worker takes its share."""

    async def once() -> int:
        async with httpx.AsyncClient(timeout=30) as client:
            response = await client.get(
                url + "/api/auth/me", headers={"Authorization": f"Bearer {token}"}
            )
            return response.status_code

    return list(await asyncio.gather(*(once() for _ in range(times))))


async def logout(url: str, token: str) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            url + "/api/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 204


async def test_a_logout_ends_the_session_on_both_workers_within_a_second(
    tmp_path: Path, database_overrides: dict[str, Any]
) -> None:
    app = AppProcess(tmp_path, database_overrides, WORKERS="2", **CACHE)
    try:
        app.start(timeout=90)  # starting two workers takes a while
        app.wait_for_workers(2)
        wait_for_listeners(app, 2)
        token = (await sign_in(app.url))["access_token"]
        warm = await me_statuses(app.url, token, ROUNDS)  # both workers cache it
        assert warm == [200] * ROUNDS

        await logout(app.url, token)
        await asyncio.sleep(1.0)
        assert await me_statuses(app.url, token, ROUNDS) == [401] * ROUNDS
    finally:
        app.stop()


async def test_a_logout_on_one_instance_ends_the_session_on_another_within_a_second(
    start_app: Callable[..., AppProcess],
) -> None:
    first, second = start_app(**CACHE), start_app(**CACHE)
    wait_for_listeners(first, 1)
    wait_for_listeners(second, 1)
    token = (await sign_in(first.url))["access_token"]
    assert await me_statuses(second.url, token, 3) == [200] * 3

    await logout(first.url, token)
    await asyncio.sleep(1.0)
    assert await me_statuses(second.url, token, 3) == [401] * 3
