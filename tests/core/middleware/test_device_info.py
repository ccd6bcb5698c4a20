"""The device-info middleware: the parsed device on the request, client addresses behind proxies."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from fastapi import FastAPI

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
