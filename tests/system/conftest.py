"""Fixtures for the system tests: TCP proxies in front of the shared PostgreSQL and Redis,
and real `python -m app` processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from app.core.config import Settings
from tests.conftest import TEST_REDIS_URL
from tests.system.app_process import AppProcess
from tests.system.tcp_proxy import TcpProxy


@pytest.fixture
async def postgres_proxy(database_overrides: dict[str, Any]) -> AsyncIterator[TcpProxy]:
    """A proxy to the test PostgreSQL; point the app at it with `proxied_postgres(proxy)`."""
    settings = Settings(_env_file=None, **database_overrides)  # type: ignore[call-arg]
    if settings.POSTGRES_HOST.startswith("/"):
        pytest.skip("PostgreSQL listens on a Unix socket here; the proxy speaks TCP")
    proxy = await TcpProxy(settings.POSTGRES_HOST, settings.POSTGRES_PORT).start()
    try:
        yield proxy
    finally:
        await proxy.close()


@pytest.fixture
async def redis_proxy(redis_url: str) -> AsyncIterator[TcpProxy]:
    """A proxy to the test Redis; point the app at it with `proxied_redis_url(proxy)`."""
    parts = urlsplit(redis_url)
    proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 6379).start()
    try:
        yield proxy
    finally:
        await proxy.close()


def proxied_postgres(proxy: TcpProxy) -> dict[str, Any]:
    """Settings overrides sending the app's database traffic through `proxy`."""
    return {"POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": proxy.port}


def proxied_redis_url(proxy: TcpProxy) -> str:
    """TEST_REDIS_URL with its host and port replaced by the proxy's."""
    parts = urlsplit(TEST_REDIS_URL)
    return parts._replace(netloc=f"127.0.0.1:{proxy.port}").geturl()


@pytest.fixture
def start_app(
    tmp_path: Path, database_overrides: dict[str, Any]
) -> Iterator[Callable[..., AppProcess]]:
    """`start_app(**env)`: a served `python -m app` on the test database, stopped afterwards."""
    started: list[AppProcess] = []

    def start(**env: str) -> AppProcess:
        process = AppProcess(tmp_path / f"app-{len(started)}", database_overrides, **env)
        started.append(process)
        return process.start()

    try:
        yield start
    finally:
        for process in started:
            process.stop()
