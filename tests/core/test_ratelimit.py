"""Rate limiting's mechanism: rules, the bounded memory backend, body keys, registration.

Core holds no rules of its own; the tests here register made-up ones on a made-up route
(the middleware's tests are in tests/core/middleware/test_rate_limit.py, the auth
routes' rules in tests/auth/test_rate_limits.py).
"""

from __future__ import annotations

import json

import pytest

from app.core.ratelimit import RateLimiter, json_body_field
from app.core.ratelimit.backends import MemoryBackend
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


def test_json_body_field_reads_one_top_level_field() -> None:
    assert json_body_field(b'{"sku": "A-1", "n": 2}', "sku") == "A-1"
    assert json_body_field(b'{"n": 2}', "sku") is None
    assert json_body_field(b'["sku"]', "sku") is None
    assert json_body_field(b"not json", "sku") is None
    assert json_body_field(None, "sku") is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"sku": "A-1", "price": NaN}',
        b'{"sku": "A-1", "note": "\\ud800"}',
        b'{"sku": "A-1", "n": 123456789012345678901234567890}',
        b'{"sku": "B-2", "sku": "A-1"}',
    ],
)
def test_json_body_field_reads_every_body_the_endpoint_reads(body: bytes) -> None:
    """A body the endpoint's parser accepts must not escape its rate-limit key."""
    assert json.loads(body)["sku"] == "A-1"
    assert json_body_field(body, "sku") == "A-1"


def test_json_body_field_gives_numbers_as_the_endpoint_reads_them() -> None:
    big = 123456789012345678901234567890
    assert json_body_field(f'{{"n": {big}}}'.encode(), "n") == big
    assert json_body_field(b'{"n": 2}', "n") == 2


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
