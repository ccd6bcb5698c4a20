"""The middleware stack through HTTP: request IDs, context, streaming, access log, headers."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from websockets.asyncio.client import connect

from app.core.config import Settings
from app.core.logger import request_id_ctx
from app.core.metrics.metrics_middleware import MetricsMiddleware
from app.core.middleware import DeviceInfoMiddleware, RateLimitMiddleware
from app.core.middleware.body_limit import BodySizeLimitMiddleware
from app.core.middleware.cors import CORSMiddleware
from app.core.middleware.error_boundary import ErrorBoundaryMiddleware
from app.core.middleware.request_id import RequestIDMiddleware, is_valid_request_id
from app.core.middleware.security_headers import SecurityHeadersMiddleware
from app.main import create_app
from tests.core.probe_routes import Gate, add_probe_routes, assert_problem, capture_logs
from tests.live_server import serving

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.fixture
async def probe(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> AsyncIterator[tuple[httpx.AsyncClient, FastAPI, Gate]]:
    async with make_client() as http:
        app = app_of(http)
        gate = add_probe_routes(app)
        yield http, app, gate


@pytest.fixture
async def client(probe: tuple[httpx.AsyncClient, FastAPI, Gate]) -> httpx.AsyncClient:
    return probe[0]


def test_stack_order_is_the_specs(settings: Settings) -> None:
    app = create_app(settings)
    assert [middleware.cls for middleware in app.user_middleware] == [
        CORSMiddleware,
        MetricsMiddleware,
        RequestIDMiddleware,
        DeviceInfoMiddleware,
        SecurityHeadersMiddleware,
        ErrorBoundaryMiddleware,
        BodySizeLimitMiddleware,
        RateLimitMiddleware,
    ]


# Request ID


@pytest.mark.parametrize(
    "incoming",
    ["abc", "A" * 128, "req-1.2:3_X", "0f8fad5b-d9cb-469f-a165-70867728950e"],
)
async def test_valid_incoming_request_id_is_kept(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.json()["meta"]["request_id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "A" * 129, "has space", "semi;colon", "new\\nline", 'quote"', "ünïcode", "a/b"],
)
async def test_invalid_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming.encode()})
    generated = response.headers["x-request-id"]
    assert generated != incoming
    assert uuid.UUID(generated).version == 4
    assert response.json()["meta"]["request_id"] == generated


async def test_each_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_request_id_rules() -> None:
    assert is_valid_request_id(b"a")
    assert is_valid_request_id(b"A-z_0.9:" * 16)
    assert not is_valid_request_id(b"")
    assert not is_valid_request_id(b"x" * 129)
    assert not is_valid_request_id(b"a b")
    assert not is_valid_request_id(b"a\x00")


async def test_context_var_is_seen_by_endpoint_and_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/context", headers={"X-Request-ID": "ctx-probe-1"})
    data = response.json()["data"]
    assert data["endpoint"] == "ctx-probe-1"
    assert data["dependency"] == "ctx-probe-1"
    assert data["state"] == "ctx-probe-1"
    # Reset once the request is over (httpx runs the app in this very task).
    assert request_id_ctx.get() is None


async def test_context_var_is_seen_by_the_500_handler(client: httpx.AsyncClient) -> None:
    with capture_logs("app.core.exceptions") as logs:
        response = await client.get("/probe/boom", headers={"X-Request-ID": "ctx-probe-500"})
    assert_problem(response, 500)
    [(_, request_id)] = logs.named("unhandled_exception")
    assert request_id == "ctx-probe-500"
    assert request_id_ctx.get() is None


async def test_every_error_path_carries_the_header_request_id(client: httpx.AsyncClient) -> None:
    paths = {
        404: client.get("/nope"),
        405: client.put("/health"),
        418: client.get("/probe/teapot"),
        422: client.get("/probe/items/x"),
        500: client.get("/probe/boom"),
    }
    for status, pending in paths.items():
        assert_problem(await pending, status)


async def test_websocket_gets_a_request_id_and_device_info(
    probe: tuple[httpx.AsyncClient, FastAPI, Gate],
) -> None:
    _, app, _ = probe
    headers = {
        "X-Request-ID": "ws-1",
        "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    }
    async with (
        serving(app, lifespan="off") as address,
        connect(f"ws://{address}/probe/ws", additional_headers=headers) as websocket,
    ):
        message = json.loads(await websocket.recv())
    assert message == {"context": "ws-1", "state": "ws-1", "browser": "Firefox"}


# Access log


async def test_one_access_line_per_request_with_route_template(client: httpx.AsyncClient) -> None:
    with capture_logs("app.http.access") as logs:
        response = await client.get("/probe/items/41", headers={"X-Request-ID": "log-1"})
    [(record, request_id)] = logs.named("request")
    assert request_id == "log-1" == response.headers["x-request-id"]
    assert record.method == "GET"  # type: ignore[attr-defined]
    assert record.path == "/probe/items/{item_id}"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.client_ip == "127.0.0.1"  # type: ignore[attr-defined]
    assert 0 < record.duration_ms < 10_000  # type: ignore[attr-defined]


async def test_access_line_of_unmatched_and_failed_requests(client: httpx.AsyncClient) -> None:
    with capture_logs("app.http.access") as logs:
        await client.get("/nope/123")
        await client.get("/probe/boom")
    lines = [(record.path, record.status) for record, _ in logs.named("request")]  # type: ignore[attr-defined]
    assert lines == [("/nope/123", 404), ("/probe/boom", 500)]


async def test_log_access_false_leaves_out_only_the_access_line(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> None:
    async with make_client(LOG_ACCESS=False) as http:
        add_probe_routes(app_of(http))
        with capture_logs("app") as logs:
            ok = await http.get("/probe/items/41", headers={"X-Request-ID": "quiet-1"})
            failed = await http.get("/probe/boom", headers={"X-Request-ID": "quiet-2"})
    assert (ok.status_code, ok.headers["x-request-id"]) == (200, "quiet-1")
    assert failed.status_code == 500
    assert logs.named("request") == []
    assert [request_id for _, request_id in logs.records] == ["quiet-2"]  # the 500's error


# Streaming


async def test_streamed_response_arrives_in_chunks(
    probe: tuple[httpx.AsyncClient, FastAPI, Gate],
) -> None:
    """Through a real server: the first chunk reaches the client while the endpoint still
    waits, which any buffering layer would turn into a timeout."""
    _, app, gate = probe
    async with (
        serving(app, lifespan="off") as address,
        httpx.AsyncClient(base_url=f"http://{address}") as http,
        http.stream("GET", "/probe/stream") as response,
    ):
        assert response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"
        chunks = response.aiter_raw()
        first = await asyncio.wait_for(anext(chunks), timeout=3)
        assert first == b"first\n"
        assert not gate.event.is_set()
        gate.event.set()
        rest = b"".join([chunk async for chunk in chunks])
        assert rest == b"second\n"


# Security headers


@pytest.mark.parametrize("path", ["/health", "/nope", "/probe/boom", "/probe/items/x"])
async def test_security_headers_on_every_response(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["content-security-policy"] == API_CSP
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


async def test_header_set_by_the_endpoint_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/own-headers")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def _directive(csp: str, name: str) -> list[str]:
    for directive in csp.split(";"):
        parts = directive.split()
        if parts and parts[0] == name:
            return parts[1:]
    raise AssertionError(f"no {name} in {csp}")


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_docs_pages_get_a_csp_they_can_render_with(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    html = response.text
    csp = response.headers["content-security-policy"]
    assert csp != API_CSP
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    scripts = _directive(csp, "script-src")
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    if path != "/redoc":
        assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert "'unsafe-inline'" not in scripts
    # Every asset comes from this service, and the CSP names no other host.
    for url in re.findall(r'<(?:script src|link[^>]*href)="([^"]+)"', html):
        assert urlsplit(url).netloc == "", url
        assert (await client.get(url)).status_code == 200, url
    assert "http" not in csp
    if path == "/redoc":
        assert "blob:" in _directive(csp, "worker-src")


async def test_cors_exposes_the_request_id(make_client: ClientFactory) -> None:
    async with make_client(CORS_ALLOW_ORIGINS=["https://app.example"]) as http:
        response = await http.get("/health", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()


# Device info


async def test_device_info_is_on_the_request(client: httpx.AsyncClient) -> None:
    response = await client.get(
        "/probe/context",
        headers={
            "User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
            "X-App-Version": "2.3.1",
        },
    )
    data = response.json()["data"]
    assert data["fingerprint"] == "desktop | macOS | Chrome"
    assert data["device"]["ip_address"] == "127.0.0.1"
    assert data["device"]["app_version"] == "2.3.1"


async def test_forwarded_for_is_believed_only_from_trusted_proxies(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> None:
    forged = {"X-Forwarded-For": "203.0.113.9"}
    async with make_client(TRUSTED_PROXIES=["10.0.0.0/8"]) as http:
        app = app_of(http)
        add_probe_routes(app)
        for peer, expected in [("10.1.2.3", "203.0.113.9"), ("198.51.100.7", "198.51.100.7")]:
            transport = httpx.ASGITransport(app=app, client=(peer, 4711))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as direct:
                response = await direct.get("/probe/context", headers=forged)
            assert response.json()["data"]["device"]["ip_address"] == expected
