"""Rate limiting on the real Redis: exact across processes, and surviving Redis outages.

Redis is reached through a TCP proxy (tests/system/tcp_proxy.py) that the tests cut or
blackhole; the shared server itself keeps running for everyone else.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.metrics.prometheus import prometheus
from app.core.ratelimit import MemoryBackend, RateLimiter, RateLimitRule, RedisBackend
from tests.conftest import TEST_SIGNING_KEYS
from tests.system.conftest import proxied_redis_url, redis_proxy
from tests.system.tcp_proxy import TcpProxy

__all__ = ["redis_proxy"]  # the fixture, shared with the system tests

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
    assert all(decision.remaining == 0 for decision in refused)
    assert all(0 < decision.reset_after <= 60 for decision in refused)
    assert other.allowed
    assert other.remaining == 4


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
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    limiter = RateLimiter([RULE], redis=RedisBackend(f"redis://127.0.0.1:{port}/0"))
    try:
        before = redis_errors()
        await limiter.start()
        assert limiter.using_fallback
        assert redis_errors() == before + 1
        assert (await limiter.hit(RULE, "k")).allowed
    finally:
        await limiter.aclose()


# --- two server processes -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(env: dict[str, str], log_dir: Path) -> Iterator[str]:
    """`python -m app` in its own process; yields its base URL."""
    port = free_port()
    log_dir.mkdir(parents=True)
    output = (log_dir / "console.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        env={**env, "PORT": str(port), "LOG_DIR": str(log_dir)},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output.close()


async def wait_until_up(client: httpx.AsyncClient, base: str) -> None:
    for _ in range(900):  # up to 90 s: a loaded CI machine imports slowly
        try:
            if (await client.get(f"{base}/")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{base} did not start")


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
    redis_proxy: TcpProxy,
    database_overrides: dict[str, Any],
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        **TEST_SIGNING_KEYS,
        **{name: str(value) for name, value in database_overrides.items()},
        "ENVIRONMENT": "test",
        "HOST": "127.0.0.1",
        "WORKERS": "1",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": proxied_redis_url(redis_proxy),
        "RATE_LIMIT_LOGIN_PER_IP": "1000/minute",
        "RATE_LIMIT_LOGIN_PER_EMAIL": "4/minute",
        "RATE_LIMIT_REDIS_RETRY_SECONDS": "1",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with (
        serve(env, tmp_path / "one") as one,
        serve(env, tmp_path / "two") as two,
    ):
        async with httpx.AsyncClient(timeout=30) as client:
            await wait_until_up(client, one)
            await wait_until_up(client, two)

            shared = await logins(client, [one, two], "shared@example.com", 20)
            assert all(status < 500 for status in shared)
            assert sum(status != 429 for status in shared) == 4

            redis_proxy.cut()
            for base in (one, two):  # each process now counts on its own, and still limits
                alone = await logins(client, [base], "outage@example.com", 8)
                assert all(status < 500 for status in alone)
                assert sum(status != 429 for status in alone) == 4
            metrics = (await client.get(f"{one}/metrics")).text
            counted = re.search(
                r'app_ratelimit_backend_errors_total\{backend="redis"\} (\S+)', metrics
            )
            assert counted is not None
            assert float(counted[1]) >= 1  # the logins in flight when Redis went each failed

            redis_proxy.restore()
            await asyncio.sleep(1.5)  # past RATE_LIMIT_REDIS_RETRY_SECONDS
            again = await logins(client, [one, two], "recovered@example.com", 12)
            assert all(status < 500 for status in again)
            assert sum(status != 429 for status in again) == 4  # shared again, not 4 each

    errors = (tmp_path / "one" / "error.json").read_text()
    assert "ratelimit_backend_unavailable" in errors
