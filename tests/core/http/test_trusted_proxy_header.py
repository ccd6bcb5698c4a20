"""TRUSTED_PROXY_HEADER names the one forwarded header the trusted proxies set.

A proxy that sets only `Forwarded` passes a client's own `X-Forwarded-For` through; if
that header were read first, the client would choose its IP (and its rate-limit key).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request

from app.core.config import Settings
from app.core.http.client_ip import TrustedProxies
from app.core.middleware import add_middlewares

PROXY = "10.0.0.5"
SPOOFED = [(b"x-forwarded-for", b"6.6.6.6"), (b"forwarded", b"for=203.0.113.9")]


def scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "client": (PROXY, 5000), "headers": headers}


def test_the_named_header_is_the_only_one_read() -> None:
    forwarded = TrustedProxies([PROXY], header="Forwarded")
    assert forwarded.client_ip(scope(SPOOFED)) == "203.0.113.9"
    assert forwarded.client_ip(scope(SPOOFED[:1])) == PROXY  # no Forwarded: the peer


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
        ('for="[2001:db8:cafe::17]:4711", for=10.3.3.3', "2001:db8:cafe::17"),
    ],
)
def test_rfc_7239_forwarded_values(value: str, expected: str) -> None:
    proxies = TrustedProxies([PROXY, "10.3.3.3"], header="Forwarded")
    assert proxies.client_ip(scope([(b"forwarded", value.encode())])) == expected


def test_x_forwarded_for_is_the_default_and_ignores_forwarded() -> None:
    xff = TrustedProxies([PROXY])
    assert xff.client_ip(scope(SPOOFED)) == "6.6.6.6"
    assert xff.client_ip(scope(SPOOFED[1:])) == PROXY


@pytest.fixture
async def forwarded_only_app() -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        ACCESS_TOKEN_SIGNING_KEY="a" * 40,
        REFRESH_TOKEN_SIGNING_KEY="b" * 40,
        TRUSTED_PROXIES=[PROXY],
        TRUSTED_PROXY_HEADER="Forwarded",
    )
    app = FastAPI()
    app.state.settings = settings
    add_middlewares(app, settings)

    @app.get("/ip")
    async def ip(request: Request) -> dict[str, str | None]:
        return {"ip": request.state.device_info.ip_address}

    transport = httpx.ASGITransport(app=app, client=(PROXY, 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_the_setting_reaches_the_device_info(
    forwarded_only_app: httpx.AsyncClient,
) -> None:
    response = await forwarded_only_app.get(
        "/ip", headers={"X-Forwarded-For": "6.6.6.6", "Forwarded": "for=203.0.113.9"}
    )
    assert response.json() == {"ip": "203.0.113.9"}
