"""The device-info middleware: the parsed device on the request, client addresses behind proxies."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from app.core.middleware.device_info import DeviceInfoMiddleware
from tests.core.probe_routes import add_probe_routes

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


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


async def test_websocket_scopes_get_device_info_and_lifespan_scopes_pass_through() -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        raise AssertionError("the middleware sends nothing itself")

    middleware = DeviceInfoMiddleware(app, trusted_proxies=["10.0.0.0/8"])
    firefox = b"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
    websocket = {
        "type": "websocket",
        "headers": [(b"user-agent", firefox), (b"x-forwarded-for", b"203.0.113.9")],
        "client": ("10.1.2.3", 5000),
    }
    await middleware(websocket, receive, send)
    await middleware({"type": "lifespan"}, receive, send)

    info = seen[0]["state"]["device_info"]
    assert (info.browser, info.os, info.ip_address) == ("Firefox", "Linux", "203.0.113.9")
    assert seen[1] == {"type": "lifespan"}
