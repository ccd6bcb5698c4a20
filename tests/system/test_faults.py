"""The service under dependency failures: PostgreSQL or Redis gone, then back.

A TCP proxy stands between the app and the shared servers; the tests cut it, never the
servers themselves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from tests.system.conftest import proxied_postgres
from tests.system.tcp_proxy import TcpProxy

MakeClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

pytestmark = pytest.mark.slow


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
