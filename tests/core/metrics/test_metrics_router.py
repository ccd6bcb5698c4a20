"""GET /metrics and /metrics/{prefix}: content, filtering, bearer auth, promtool."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.binaries import installed

SPEC_METRICS = {
    "app_requests",
    "app_request_latency_seconds",
    "app_errors",
    "system_memory_usage_percentage",
    "system_cpu_usage_percentage",
    "background_job_runs",
    "background_job_failures",
    "background_job_duration_seconds",
    "db_postgres_poolsize",
    "db_postgres_pool_checked_out",
    "db_postgres_pool_overflow",
    "db_postgres_query_duration_seconds",
    "db_mongo_command_duration_seconds",
}


def _families(text: str) -> set[str]:
    return {family.name for family in text_string_to_metric_families(text)}


async def test_metrics_lists_every_metric_with_the_exposition_content_type(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/health")
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    assert SPEC_METRICS <= _families(response.text)


@pytest.mark.parametrize("prefix", ["app_", "app_requests_total", "db_postgres_pool"])
async def test_prefix_keeps_only_matching_metrics(client: httpx.AsyncClient, prefix: str) -> None:
    await client.get("/health")
    response = await client.get(f"/metrics/{prefix}")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    samples = [
        sample.name
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    ]
    assert samples
    assert all(name.startswith(prefix.removesuffix("_total")) for name in samples)
    expected = {
        name
        for name in SPEC_METRICS
        if f"{name}_total".startswith(prefix) or name.startswith(prefix)
    }
    assert expected <= _families(response.text)


async def test_unknown_prefix_is_an_empty_exposition(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics/nothing_like_this")
    assert response.status_code == 200
    assert response.text == ""


@pytest.mark.parametrize("path", ["/metrics", "/metrics/app_"])
async def test_a_configured_token_is_required(make_client: Callable[..., Any], path: str) -> None:
    async with make_client(METRICS_AUTH_TOKEN="scrape-token-0123456789") as client:
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": "Basic scrape-token-0123456789"},
            {"Authorization": "Bearer scrape-token-012345678"},
        ):
            denied = await client.get(path, headers=headers)
            assert denied.status_code == 401
            assert denied.headers["content-type"].startswith("application/problem+json")
            assert denied.headers["www-authenticate"] == "Bearer"
            assert denied.json()["status"] == 401
        allowed = await client.get(
            path, headers={"Authorization": "Bearer scrape-token-0123456789"}
        )
        assert allowed.status_code == 200
        assert "app_requests_total" in allowed.text


async def test_output_passes_promtool(client: httpx.AsyncClient) -> None:
    promtool = installed("promtool")
    await client.get("/health")
    await client.get("/no/such/path")
    body = (await client.get("/metrics")).content
    result = await asyncio.to_thread(
        subprocess.run,
        [promtool, "check", "metrics"],
        input=body,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
