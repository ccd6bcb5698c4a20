"""Rate limiting's mechanism: rules, the bounded memory backend, keys, and registration.

Core holds no rules of its own; the tests here register made-up ones on a made-up route
and drive the middleware alone (the auth routes' rules are tested in
tests/auth/test_rate_limits.py).
"""

from __future__ import annotations

import json

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from app.core.ratelimit import RateLimiter, RateLimitMiddleware, json_body_field
from app.core.ratelimit.backends import MemoryBackend
from app.core.ratelimit.middleware import client_ip_key
from app.core.ratelimit.rules import CLIENT_IP, RateLimitRule

# --- rules -----------------------------------------------------------------------------


def test_rule_must_allow_a_request() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RateLimitRule.parse("x", "POST", "/x", "ip", "0/minute")


# --- memory backend --------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_allows_exactly_n_in_a_moving_window() -> None:
    clock = Clock()
    memory = MemoryBackend(clock=clock)
    rule = RateLimitRule.parse("r", "POST", "/x", "ip", "3/minute")
    decisions = []
    for offset in (0, 10, 20, 30):
        clock.now = 1000 + offset
        decisions.append(await memory.hit(rule, "k"))
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[3].reset_after == pytest.approx(30)  # the first hit leaves at t=60

    clock.now = 1060  # the first hit left the window; only one slot frees up
    assert (await memory.hit(rule, "k")).allowed
    assert not (await memory.hit(rule, "k")).allowed
    assert (await memory.hit(rule, "other")).allowed


async def test_memory_backend_is_bounded_and_keeps_recent_keys() -> None:
    memory = MemoryBackend(max_keys=100)
    rule = RateLimitRule.parse("r", "POST", "/x", "ip", "1/hour")
    await memory.hit(rule, "victim")
    for index in range(1000):
        await memory.hit(rule, f"flood-{index}")
        if index % 50 == 0:
            assert not (await memory.hit(rule, "victim")).allowed  # kept: recently used
    assert len(memory) == 100


# --- keys ------------------------------------------------------------------------------


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


def test_json_body_field_reads_one_top_level_field() -> None:
    assert json_body_field(b'{"sku": "A-1", "n": 2}', "sku") == "A-1"
    assert json_body_field(b'{"n": 2}', "sku") is None
    assert json_body_field(b'["sku"]', "sku") is None
    assert json_body_field(b"not json", "sku") is None
    assert json_body_field(None, "sku") is None


# --- registration ----------------------------------------------------------------------


def sku_key(body: bytes | None) -> str | None:
    sku = json_body_field(body, "sku")
    return sku if isinstance(sku, str) else None


ORDER_PER_SKU = RateLimitRule.parse("order-sku", "POST", "/orders", "sku", "2/minute")
ORDER_PER_IP = RateLimitRule.parse("order-ip", "POST", "/orders", CLIENT_IP, "10/minute")


def test_a_rule_needs_its_body_key_registered() -> None:
    limiter = RateLimiter()
    with pytest.raises(ValueError, match="sku"):
        limiter.register([ORDER_PER_SKU])
    assert limiter.rules_for("POST", "/orders") == ()
    limiter.register([ORDER_PER_IP, ORDER_PER_SKU], {"sku": sku_key})
    assert limiter.rules_for("POST", "/orders") == (ORDER_PER_IP, ORDER_PER_SKU)
    assert limiter.rules_for("GET", "/orders") == ()


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
