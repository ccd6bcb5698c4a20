"""The backends that count: the bounded memory backend, and Redis (one Lua script a request).

The Redis tests run on the real server at TEST_REDIS_URL; the limiter's fallback from
one to the other is in test_limiter.py.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter

from app.core.ratelimit import MemoryBackend, RateLimitRule, RedisBackend
from app.core.ratelimit.backends import Decision

RULE = RateLimitRule.parse("login-ip", "POST", "/api/auth/login", "ip", "5/minute")

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


# --- Redis backend ---------------------------------------------------------------------


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
