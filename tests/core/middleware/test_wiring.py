"""The stack as a whole: the spec's order; WebSockets and streamed bodies through every layer."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI
from websockets.asyncio.client import connect

from app.core.config import Settings
from app.core.metrics.metrics_middleware import MetricsMiddleware
from app.core.middleware import DeviceInfoMiddleware, RateLimitMiddleware
from app.core.middleware.body_limit import BodySizeLimitMiddleware
from app.core.middleware.cors import CORSMiddleware
from app.core.middleware.error_boundary import ErrorBoundaryMiddleware
from app.core.middleware.request_id import RequestIDMiddleware
from app.core.middleware.security_headers import SecurityHeadersMiddleware
from app.main import create_app
from tests.core.probe_routes import Gate
from tests.live_server import serving


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
