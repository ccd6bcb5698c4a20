"""The limiter: rule registration, and falling back to memory while Redis fails.

Core holds no rules of its own; the tests here register made-up ones on a made-up route
(the middleware's tests are in tests/core/middleware/test_rate_limit.py, the auth
routes' rules in tests/auth/test_rate_limits.py). Redis is reached through a TCP proxy
(tests/system/tcp_proxy.py) that the tests cut or blackhole; the shared server itself
keeps running for everyone else.
"""

from __future__ import annotations

import asyncio

import pytest

from app.core.metrics.prometheus import prometheus
from app.core.ratelimit import MemoryBackend, RateLimiter, RedisBackend, json_body_field
from app.core.ratelimit.rules import CLIENT_IP, RateLimitRule
from tests.system.app_process import free_port
from tests.system.conftest import proxied_redis_url, redis_proxy
from tests.system.tcp_proxy import TcpProxy

__all__ = ["redis_proxy"]  # a fixture shared with the system tests

RULE = RateLimitRule.parse("login-ip", "POST", "/api/auth/login", "ip", "5/minute")


def redis_errors() -> float:
    value = prometheus.registry.get_sample_value(
        "app_ratelimit_backend_errors_total", {"backend": "redis"}
    )
    return value or 0.0


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


# --- falling back to memory while Redis fails ------------------------------------------


async def test_limiter_falls_back_to_memory_and_returns_to_redis(redis_proxy: TcpProxy) -> None:
    limiter = RateLimiter(
        [RULE],
        memory=MemoryBackend(),
        redis=RedisBackend(proxied_redis_url(redis_proxy), key_prefix="test", timeout_seconds=0.3),
        retry_seconds=0.5,
    )
    await limiter.start()
    try:
        assert [(await limiter.hit(RULE, "k")).remaining for _ in range(2)] == [4, 3]
        assert not limiter.using_fallback
        errors_before = redis_errors()

        redis_proxy.cut()
        during = [await limiter.hit(RULE, "k") for _ in range(7)]
        assert limiter.using_fallback
        assert redis_errors() == errors_before + 1  # one failure, then Redis is skipped
        # The in-process limiter counts on its own: the full limit, then refusals.
        assert [d.allowed for d in during] == [True] * 5 + [False] * 2

        redis_proxy.restore()
        await asyncio.sleep(0.6)
        back = await limiter.hit(RULE, "k")
        assert not limiter.using_fallback
        assert back.allowed
        assert back.remaining == 2  # Redis still holds the 2 hits from before the outage
    finally:
        await limiter.aclose()


async def test_hung_redis_costs_one_timeout_then_memory_answers(redis_proxy: TcpProxy) -> None:
    limiter = RateLimiter(
        [RULE],
        redis=RedisBackend(proxied_redis_url(redis_proxy), key_prefix="test", timeout_seconds=0.2),
        retry_seconds=30,
    )
    try:
        assert (await limiter.hit(RULE, "k")).allowed
        redis_proxy.blackhole()
        first = await asyncio.wait_for(limiter.hit(RULE, "k"), timeout=5)
        rest = await asyncio.wait_for(
            asyncio.gather(*(limiter.hit(RULE, "k") for _ in range(10))), timeout=0.5
        )
        assert first.allowed
        assert sum(d.allowed for d in rest) == 4
        assert limiter.using_fallback
    finally:
        redis_proxy.restore()
        await limiter.aclose()


async def test_startup_check_reports_unreachable_redis() -> None:
    nothing_listens = free_port()
    limiter = RateLimiter([RULE], redis=RedisBackend(f"redis://127.0.0.1:{nothing_listens}/0"))
    try:
        before = redis_errors()
        await limiter.start()
        assert limiter.using_fallback
        assert redis_errors() == before + 1
        assert (await limiter.hit(RULE, "k")).allowed
    finally:
        await limiter.aclose()
