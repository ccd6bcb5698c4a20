"""Fixtures on the real services: PostgreSQL at POSTGRES_* (database `{db}_test`) and
Redis at TEST_REDIS_URL. With CI=true a missing service fails the run instead of skipping.

Parallel developers can isolate themselves with `POSTGRES_DB=<name> make test` (their
database is then `<name>_test`) and `TEST_REDIS_URL=redis://127.0.0.1:6379/<n>`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import app.auth.models  # noqa: F401  (registers the tables on Base.metadata)
from app.core.config import Settings
from app.db.postgres.base import Base
from app.db.postgres.bootstrap import (
    ensure_database,
    migrate,
    server_answers,
    start_embedded_postgres,
)
from app.main import create_app

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
TEST_SIGNING_KEYS = {
    "ACCESS_TOKEN_SIGNING_KEY": "test-access-signing-key-0123456789abcdef",
    "REFRESH_TOKEN_SIGNING_KEY": "test-refresh-signing-key-0123456789abcdef",
}


def _service_missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required in CI and did not answer", pytrace=False)
    pytest.skip(f"{what} is not available")


@pytest.fixture(scope="session")
def database_overrides() -> dict[str, Any]:
    """Settings overrides pointing at a migrated `{POSTGRES_DB}_test` database."""
    base = Settings(_env_file=None)  # type: ignore[call-arg]
    overrides: dict[str, Any] = {"POSTGRES_DB": f"{base.POSTGRES_DB}_test"}
    if not server_answers(base.POSTGRES_HOST, base.POSTGRES_PORT):
        if IN_CI:
            pytest.fail("PostgreSQL is required in CI and did not answer", pytrace=False)
        # Stopped when the test session's process exits.
        embedded = start_embedded_postgres(Path(".data/postgres-test"))
        overrides |= {"POSTGRES_HOST": embedded.host, "POSTGRES_PORT": embedded.port}
    settings = base.model_copy(update=overrides)
    asyncio.run(ensure_database(settings, settings.POSTGRES_DB))
    migrate(settings.database_url)
    return overrides


@pytest.fixture
def make_settings(database_overrides: dict[str, Any], tmp_path: Path) -> Callable[..., Settings]:
    """Build test Settings: no .env file, test database, logs under tmp_path."""

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "ENVIRONMENT": "test",
            "LOG_DIR": tmp_path / "logs",
            **TEST_SIGNING_KEYS,
            **database_overrides,
            **overrides,
        }
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    return build


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings()


async def _truncate_all(settings: Settings) -> None:
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    if not tables:
        return
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
def make_client(
    make_settings: Callable[..., Settings],
) -> Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]:
    """`async with make_client(**settings_overrides) as client:` a running app over HTTP."""

    @asynccontextmanager
    async def build(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(**overrides)
        application = create_app(settings)
        try:
            async with (
                LifespanManager(application) as manager,
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=manager.app),
                    base_url="http://testserver",
                ) as client,
            ):
                client.app = application  # type: ignore[attr-defined]
                yield client
        finally:
            await _truncate_all(make_settings())

    return build


@pytest.fixture
async def client(
    make_client: Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]],
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on an app built from the default test settings."""
    async with make_client() as http:
        yield http


@pytest.fixture
def app_of() -> Callable[[httpx.AsyncClient], FastAPI]:
    """The FastAPI app behind a client from `make_client`."""

    def get(client: httpx.AsyncClient) -> FastAPI:
        application: FastAPI = client.app  # type: ignore[attr-defined]
        return application

    return get


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """A flushed Redis database for this test."""
    redis = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1.0)
    try:
        await redis.ping()
    except (OSError, RedisError):
        await redis.aclose()
        _service_missing(f"Redis at {TEST_REDIS_URL}")
    await redis.flushdb()
    try:
        yield TEST_REDIS_URL
    finally:
        await redis.flushdb()
        await redis.aclose()
