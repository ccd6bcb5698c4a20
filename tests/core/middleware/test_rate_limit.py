"""The rate-limit middleware: client address keys, and rules registered after it is built.

The rules here are made up, on a made-up route; the auth routes' are tested in
tests/auth/test_rate_limits.py.
"""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from app.core.middleware.rate_limit import RateLimitMiddleware, client_ip_key
from app.core.ratelimit import RateLimiter
from tests.core.ratelimit.test_limiter import ORDER_PER_IP, ORDER_PER_SKU, sku_key


@pytest.mark.parametrize(
    ("client", "expected"),
    [
        ("198.51.100.4", "198.51.100.4"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.4", "198.51.100.4"),
    ],
)
def test_client_ip_key(client: str, expected: str) -> None:
    assert client_ip_key({"type": "http", "client": (client, 1)}) == expected


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    message = await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": message.get("body", b"")})


async def test_registered_rules_count_by_their_body_key() -> None:
    """A domain's rules and key, registered after the middleware is built, apply to its route."""
    limiter = RateLimiter()
    app = RateLimitMiddleware(echo, limiter=limiter)
    limiter.register([ORDER_PER_IP, ORDER_PER_SKU], {"sku": sku_key})
    transport = httpx.ASGITransport(app=app, client=("198.51.100.4", 1))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        orders = [await client.post("/orders", json={"sku": "A-1"}) for _ in range(3)]
        other_sku = await client.post("/orders", json={"sku": "B-2"})
        no_sku = await client.post("/orders", content=b"{}")
    assert [r.status_code for r in orders] == [200, 200, 429]
    assert orders[0].headers["RateLimit-Policy"] == '"order-ip";q=10;w=60, "order-sku";q=2;w=60'
    assert json.loads(orders[0].content) == {"sku": "A-1"}  # the body reached the app
    assert other_sku.status_code == 200
    assert no_sku.status_code == 200
    assert no_sku.headers["RateLimit"].startswith('"order-ip";r=')
    assert "order-sku" not in no_sku.headers["RateLimit"]
