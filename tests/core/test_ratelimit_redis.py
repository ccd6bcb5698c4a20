"""Rate limiting on the real Redis: exact across processes, and surviving Redis outages.

Redis is reached through a TCP proxy (tests/system/tcp_proxy.py) that the tests cut or
blackhole; the shared server itself keeps running for everyone else.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable

import httpx
import pytest
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from app.core.metrics.prometheus import prometheus
from app.core.ratelimit import MemoryBackend, RateLimiter, RateLimitRule, RedisBackend
from app.core.ratelimit.backends import Decision
from tests.system.app_process import AppProcess, free_port
from tests.system.conftest import proxied_redis_url, redis_proxy, start_app
from tests.system.tcp_proxy import TcpProxy

__all__ = ["redis_proxy", "start_app"]  # fixtures shared with the system tests

RULE = RateLimitRule.parse("login-ip", "POST", "/api/auth/login", "ip", "5/minute")


def redis_errors() -> float:
    value = prometheus.registry.get_sample_value(
        "app_ratelimit_backend_errors_total", {"backend": "redis"}
    )
    return value or 0.0


async def test_concurrent_hits_allow_exactly_the_limit(redis_url: str) -> None:
    backend = RedisBackend(redis_url, key_prefix="test")
    try:
        decisions = await asyncio.gather(*(backend.hit(RULE, "10.0.0.1") for _ in range(40)))
        other = await backend.hit(RULE, "10.0.0.2")
    finally:
        await backend.aclose()
    assert sum(decision.allowed for decision in decisions) == 5
    refused = [decision for decision in decisions if not decision.allowed]
    assert all(decision.remaining == 0 for decision in refused), refused
    assert all(0 < decision.reset_after <= 60 for decision in refused), refused
    assert other.allowed
    assert other.remaining == 4


PER_IP = RateLimitRule.parse("refresh-ip", "POST", "/api/auth/refresh", "ip", "3/minute")
PER_SESSION = RateLimitRule.parse(
    "refresh-session", "POST", "/api/auth/refresh", "session", "2/hour"
)


async def test_a_requests_rules_are_counted_in_order_up_to_the_first_refusal(
    redis_url: str,
) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    redis = RedisBackend(redis_url, key_prefix=prefix)
    memory = MemoryBackend()
    # Two sessions from one address: the session rule refuses first, then the address rule.
    requests = [("10.0.0.1", "s1")] * 3 + [("10.0.0.1", "s2")] * 2
    try:
        seen = {}
        for backend in (redis, memory):
            seen[backend] = [
                await backend.hit_all([(PER_IP, ip), (PER_SESSION, session)])
                for ip, session in requests
            ]
    finally:
        await redis.aclose()

    def outcome(decisions: list[Decision]) -> list[tuple[bool, int]]:
        return [(decision.allowed, decision.remaining) for decision in decisions]

    expected = [
        [(True, 2), (True, 1)],
        [(True, 1), (True, 0)],
        [(True, 0), (False, 0)],  # the address rule counted it; the session rule refused it
        [(False, 0)],  # the address is out: the session rule is not asked
        [(False, 0)],
    ]
    assert [outcome(decisions) for decisions in seen[redis]] == expected
    assert [outcome(decisions) for decisions in seen[memory]] == expected
    for decisions in seen[redis]:
        windows = [PER_IP.window_seconds, PER_SESSION.window_seconds][: len(decisions)]
        assert all(0 < d.reset_after <= w for d, w in zip(decisions, windows, strict=True))


async def test_counts_carry_over_from_the_limits_library_layout(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex}"
    # What an earlier version counted with `limits`' own Redis strategy, on the same keys.
    earlier = MovingWindowRateLimiter(RedisStorage(redis_url, key_prefix=prefix))
    assert earlier.hit(PER_IP.item, PER_IP.name, "10.0.0.9")
    assert earlier.hit(PER_IP.item, PER_IP.name, "10.0.0.9")
    backend = RedisBackend(redis_url, key_prefix=prefix)
    try:
        now = await backend.hit(PER_IP, "10.0.0.9")
        refused = await backend.hit(PER_IP, "10.0.0.9")
    finally:
        await backend.aclose()
    assert (now.allowed, now.remaining) == (True, 0)
    assert not refused.allowed
    # And the other way round: `limits` sees the hit the script counted.
    assert earlier.get_window_stats(PER_IP.item, PER_IP.name, "10.0.0.9").remaining == 0


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


# --- two server processes -----------------------------------------------------------------


async def logins(client: httpx.AsyncClient, bases: list[str], email: str, count: int) -> list[int]:
    """`count` concurrent logins spread over the servers; their status codes."""
    requests = [
        client.post(
            f"{bases[index % len(bases)]}/api/auth/login",
            json={"email": email, "password": "wrong-password"},
        )
        for index in range(count)
    ]
    return [response.status_code for response in await asyncio.gather(*requests)]


@pytest.mark.slow
async def test_two_processes_share_the_limit_and_survive_a_redis_outage(
    redis_proxy: TcpProxy, start_app: Callable[..., AppProcess]
) -> None:
    env = {
        "REDIS_URL": proxied_redis_url(redis_proxy),
        "RATE_LIMIT_LOGIN_PER_IP": "1000/minute",
        "RATE_LIMIT_LOGIN_PER_EMAIL": "4/minute",
        "RATE_LIMIT_REDIS_RETRY_SECONDS": "1",
    }
    # Started from threads: the proxy runs on this event loop and must keep forwarding.
    one = await asyncio.to_thread(start_app, **env)
    two = await asyncio.to_thread(start_app, **env)
    servers = [one.url, two.url]
    async with httpx.AsyncClient(timeout=30) as client:
        shared = await logins(client, servers, "shared@example.com", 20)
        assert all(status < 500 for status in shared)
        assert sum(status != 429 for status in shared) == 4

        redis_proxy.cut()
        for server in servers:  # each process now counts on its own, and still limits
            alone = await logins(client, [server], "outage@example.com", 8)
            assert all(status < 500 for status in alone)
            assert sum(status != 429 for status in alone) == 4
        metrics = (await client.get(f"{one.url}/metrics")).text
        counted = re.search(r'app_ratelimit_backend_errors_total\{backend="redis"\} (\S+)', metrics)
        assert counted is not None
        assert float(counted[1]) >= 1  # the logins in flight when Redis went each failed

        redis_proxy.restore()
        await asyncio.sleep(1.5)  # past RATE_LIMIT_REDIS_RETRY_SECONDS
        again = await logins(client, servers, "recovered@example.com", 12)
        assert all(status < 500 for status in again)
        assert sum(status != 429 for status in again) == 4  # shared again, not 4 each

    assert "ratelimit_backend_unavailable" in (one.log_dir / "error.json").read_text()
