"""`WORKERS=2 python -m app`: two worker processes behave as one service.

Requests go out on fresh connections so that both workers take their share (each worker
writes its own log file, which shows who served what); the request counter on /metrics
(prometheus_client multiprocess mode) and the login rate limit (Redis) count across both.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.system.app_process import AppProcess, two_workers_on_test_redis

pytestmark = pytest.mark.slow

REQUESTS = 60
LOGIN_LIMIT = 7


@pytest.fixture(scope="module")
def two_workers(
    tmp_path_factory: pytest.TempPathFactory, database_overrides: dict[str, Any]
) -> Iterator[AppProcess]:
    """One `WORKERS=2 python -m app` for the module (starting two workers takes a while)."""
    with two_workers_on_test_redis(
        tmp_path_factory.mktemp("two-workers"),
        database_overrides,
        RATE_LIMIT_LOGIN_PER_IP=f"{LOGIN_LIMIT}/minute",
    ) as app:
        yield app


def _counter(exposition: str, name: str, **labels: str) -> float:
    """The value of one series of a counter in a text exposition (0 when absent)."""
    for line in exposition.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match is None:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(1)))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(2))
    return 0.0


async def _fresh_connection_get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.get(url)


async def _health_requests_counted(url: str) -> float:
    exposition = (await _fresh_connection_get(url + "/metrics")).text
    return _counter(
        exposition, "app_requests_total", method="GET", endpoint="/health", status="200"
    )


def _served_by_file(app: AppProcess, request_ids: set[str]) -> Counter[str]:
    return Counter(
        name
        for name, record in app.log_records_by_file()
        if record["message"] == "request" and record.get("request_id") in request_ids
    )


async def test_request_counter_on_metrics_counts_both_workers(two_workers: AppProcess) -> None:
    before = await _health_requests_counted(two_workers.url)
    responses = await asyncio.gather(
        *(_fresh_connection_get(two_workers.url + "/health") for _ in range(REQUESTS))
    )
    assert [response.status_code for response in responses] == [200] * REQUESTS

    assert await _health_requests_counted(two_workers.url) - before == REQUESTS
    await asyncio.sleep(1.0)  # the workers' log listeners write their lines
    ids = {response.headers["x-request-id"] for response in responses}
    assert len(_served_by_file(two_workers, ids)) == 2


async def test_login_rate_limit_holds_exactly_across_both_workers(
    two_workers: AppProcess,
) -> None:
    attempts = 3 * LOGIN_LIMIT
    responses = []
    # One after another, each on a new connection: a burst would be accepted by one worker.
    for number in range(attempts):
        async with httpx.AsyncClient(base_url=two_workers.url, timeout=30) as client:
            responses.append(
                await client.post(
                    "/api/auth/login",
                    json={"email": f"user-{number}@example.com", "password": "wrong-password"},
                )
            )
    statuses = [response.status_code for response in responses]
    assert statuses.count(429) == attempts - LOGIN_LIMIT
    assert statuses.count(401) == LOGIN_LIMIT
    await asyncio.sleep(1.0)
    ids = {response.headers["x-request-id"] for response in responses}
    assert len(_served_by_file(two_workers, ids)) == 2
