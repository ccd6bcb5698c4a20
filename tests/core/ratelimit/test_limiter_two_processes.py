"""Two `python -m app` processes share one login limit in Redis, and survive its outage.

Redis is reached through a TCP proxy (tests/system/tcp_proxy.py) that the test cuts;
the shared server itself keeps running for everyone else.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import httpx
import pytest

from tests.system.app_process import AppProcess
from tests.system.conftest import proxied_redis_url, redis_proxy, start_app
from tests.system.tcp_proxy import TcpProxy

__all__ = ["redis_proxy", "start_app"]  # fixtures shared with the system tests


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
