"""/metrics answers, errors included, carry `Cache-Control: no-store`: the exposition
describes the live process (and can reveal traffic), so no cache may keep it."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.conftest import ClientFactory


@pytest.mark.parametrize("path", ["/metrics", "/metrics/app_"])
async def test_metrics_are_not_stored(make_client: ClientFactory, path: str) -> None:
    async with make_client() as client:
        response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_a_refused_scrape_is_not_stored_either(make_client: ClientFactory) -> None:
    async with make_client(METRICS_AUTH_TOKEN="a-metrics-token-for-the-tests") as client:
        response: httpx.Response = await client.get("/metrics")
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"
