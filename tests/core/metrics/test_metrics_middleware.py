"""Request metrics through HTTP: templated endpoints, bounded series, status and errors."""

from __future__ import annotations

import asyncio
import random
import string
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import APIRouter

from app.core.exceptions import ServiceUnavailableError
from app.core.metrics.metrics_middleware import UNMATCHED
from tests.core.metrics.conftest import names, value
from tests.core.probe_routes import capture_logs


class ObservedBoomError(Exception):
    """Raised by a test route and never handled."""


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    @router.get("/boom/{n}")
    async def boom(n: int) -> None:
        raise ObservedBoomError(f"boom {n}")

    @router.get("/unavailable")
    async def unavailable() -> None:
        raise ServiceUnavailableError(detail="on purpose")

    return router


@pytest.fixture
def prefix() -> str:
    """A unique mount point, so this test's series are its own in the process-wide registry."""
    return f"/api/m{uuid.uuid4().hex[:8]}"


async def _mounted(client: httpx.AsyncClient, prefix: str) -> httpx.AsyncClient:
    nested = APIRouter()
    nested.include_router(_router(), prefix="/v1")
    client.app.include_router(nested, prefix=prefix)  # type: ignore[attr-defined]
    return client


async def test_n_distinct_ids_make_one_series_with_count_n(
    make_client: Callable[..., Any], scrape: Callable[..., Any], prefix: str
) -> None:
    n = 25
    async with make_client() as client:
        await _mounted(client, prefix)
        responses = await asyncio.gather(*(client.get(f"{prefix}/v1/items/{i}") for i in range(n)))
        assert {r.status_code for r in responses} == {200}
        series = await scrape(client)

    template = f"{prefix}/v1/items/{{item_id}}"
    ours = [
        labels for labels in names(series, "app_requests_total") if prefix in labels["endpoint"]
    ]
    assert ours == [{"method": "GET", "endpoint": template, "status": "200"}]
    assert value(series, "app_requests_total", method="GET", endpoint=template, status="200") == n
    assert value(series, "app_request_latency_seconds_count", method="GET", endpoint=template) == n
    assert value(series, "app_request_latency_seconds_sum", method="GET", endpoint=template) > 0


async def test_a_thousand_random_unknown_paths_add_at_most_one_series(
    client: httpx.AsyncClient, scrape: Callable[..., Any]
) -> None:
    before = await scrape(client)

    def random_path() -> str:
        depth = random.randint(1, 4)
        parts = ("".join(random.choices(string.ascii_letters + "-_.~", k=8)) for _ in range(depth))
        return "/" + "/".join(parts)

    for _ in range(1_000):
        assert (await client.get(random_path())).status_code == 404
    after = await scrape(client)

    for name in ("app_requests_total", "app_request_latency_seconds_count"):
        new = [labels for labels in names(after, name) if labels not in names(before, name)]
        assert len(new) <= 1, new
    assert (
        value(after, "app_requests_total", method="GET", endpoint=UNMATCHED, status="404")
        - value(before, "app_requests_total", method="GET", endpoint=UNMATCHED, status="404")
        == 1_000
    )


async def test_unknown_methods_share_one_label(
    client: httpx.AsyncClient, scrape: Callable[..., Any]
) -> None:
    for n in range(20):
        await client.request(f"X{n}METHOD", "/health")
    series = await scrape(client)
    methods = {labels["method"] for labels in names(series, "app_requests_total")}
    assert not any(method.startswith("X") for method in methods)
    assert (
        value(series, "app_requests_total", method="OTHER", endpoint="/health", status="405") >= 20
    )


async def test_unhandled_exception_counts_an_error_and_a_500(
    make_client: Callable[..., Any],
    app_of: Callable[..., Any],
    scrape: Callable[..., Any],
    prefix: str,
) -> None:
    async with make_client() as client:
        await _mounted(client, prefix)
        # A transport that answers like a server would, instead of re-raising the error.
        transport = httpx.ASGITransport(app=app_of(client), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as raw:
            for n in range(3):
                assert (await raw.get(f"{prefix}/v1/boom/{n}")).status_code == 500
        series = await scrape(client)

    template = f"{prefix}/v1/boom/{{n}}"
    assert (
        value(series, "app_errors_total", endpoint=template, exception_type="ObservedBoomError")
        == 3
    )
    assert value(series, "app_requests_total", method="GET", endpoint=template, status="500") == 3


async def test_a_deliberate_503_is_a_status_not_an_error(
    make_client: Callable[..., Any], scrape: Callable[..., Any], prefix: str
) -> None:
    async with make_client() as client:
        await _mounted(client, prefix)
        assert (await client.get(f"{prefix}/v1/unavailable")).status_code == 503
        series = await scrape(client)

    template = f"{prefix}/v1/unavailable"
    assert value(series, "app_requests_total", method="GET", endpoint=template, status="503") == 1
    assert not [
        labels for labels in names(series, "app_errors_total") if labels["endpoint"] == template
    ]


async def test_validation_errors_and_405_keep_the_template(
    make_client: Callable[..., Any], scrape: Callable[..., Any], prefix: str
) -> None:
    async with make_client() as client:
        await _mounted(client, prefix)
        assert (await client.get(f"{prefix}/v1/items/not-a-number")).status_code == 422
        assert (await client.post(f"{prefix}/v1/items/1")).status_code == 405
        assert (await client.get(f"{prefix}/v1/nothing-here")).status_code == 404
        series = await scrape(client)

    template = f"{prefix}/v1/items/{{item_id}}"
    assert value(series, "app_requests_total", method="GET", endpoint=template, status="422") == 1
    assert value(series, "app_requests_total", method="POST", endpoint=template, status="405") == 1
    assert not [
        labels for labels in names(series, "app_requests_total") if "nothing" in labels["endpoint"]
    ]


def _delta(before: Any, after: Any, **labels: str) -> float:
    return value(after, "app_requests_total", **labels) - value(
        before, "app_requests_total", **labels
    )


async def test_requests_refused_by_middleware_keep_the_route_template(
    make_client: Callable[..., Any], scrape: Callable[..., Any]
) -> None:
    """A 429 from the rate limiter and a 413 from the body limit answer before routing;
    a dashboard still has to see which endpoint is throttled or flooded."""
    async with make_client(
        RATE_LIMIT_LOGIN_PER_IP="1/minute", MAX_REQUEST_BODY_BYTES=512
    ) as client:
        before = await scrape(client)
        login = {"email": "ada@example.com", "password": "correct horse battery"}
        assert (await client.post("/api/auth/login", json=login)).status_code == 401
        assert (await client.post("/api/auth/login", json=login)).status_code == 429
        too_big = {**login, "full_name": "x" * 1024}
        assert (await client.post("/api/auth/register", json=too_big)).status_code == 413
        assert (await client.get("/api/auth/me")).status_code == 401
        after = await scrape(client)
    for endpoint, status in [
        ("/api/auth/login", "429"),
        ("/api/auth/register", "413"),
        ("/api/auth/me", "401"),
    ]:
        method = "GET" if endpoint.endswith("/me") else "POST"
        assert _delta(before, after, method=method, endpoint=endpoint, status=status) == 1, endpoint
    assert _delta(before, after, method="POST", endpoint=UNMATCHED, status="429") == 0
    assert _delta(before, after, method="POST", endpoint=UNMATCHED, status="413") == 0


async def test_fastapis_own_docs_routes_keep_their_path_as_endpoint(
    client: httpx.AsyncClient, scrape: Callable[..., Any]
) -> None:
    before = await scrape(client)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert (await client.get(path)).status_code == 200
    assert (await client.get("/no/such/page")).status_code == 404
    after = await scrape(client)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert _delta(before, after, method="GET", endpoint=path, status="200") == 1, path
    assert _delta(before, after, method="GET", endpoint=UNMATCHED, status="404") == 1


async def test_the_access_line_and_the_latency_histogram_observe_the_same_duration(
    make_client: Callable[..., Any], scrape: Callable[..., Any], prefix: str
) -> None:
    """One observation per request (app.core.http.observation) feeds both."""
    async with make_client() as client:
        await _mounted(client, prefix)
        with capture_logs("app.http.access") as logs:
            response = await client.get(f"{prefix}/v1/items/7")
        series = await scrape(client)

    assert response.status_code == 200
    template = f"{prefix}/v1/items/{{item_id}}"
    [line] = [record for record, _ in logs.named("request") if record.path == template]
    assert line.status == 200
    seconds = value(series, "app_request_latency_seconds_sum", method="GET", endpoint=template)
    # The line rounds to the microsecond; two clocks would differ by several.
    assert line.duration_ms == pytest.approx(seconds * 1000, abs=0.0006)
