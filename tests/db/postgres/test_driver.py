"""The driver pool against the real database: statements, timings, and what failures become."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest

from app.core.config import Settings
from app.core.errors import ServiceUnavailableError
from app.db.postgres.driver import DriverConnection, DriverPool, driver_dsn
from app.db.postgres.errors import DatabaseError
from tests.db.postgres.test_engine import observed


async def _one(connection: DriverConnection) -> int:
    row = await connection.fetchrow("SELECT 1 AS n")
    assert row is not None
    n: int = row["n"]
    return n


@pytest.fixture
async def open_pool(
    make_settings: Callable[..., Settings],
) -> AsyncIterator[Callable[..., Any]]:
    opened: list[DriverPool] = []

    async def open_with(**overrides: Any) -> DriverPool:
        pool = await DriverPool.open(make_settings(**overrides))
        opened.append(pool)
        return pool

    yield open_with
    for pool in opened:
        await pool.close()


async def test_statements_run_and_are_timed_by_operation(open_pool: Callable[..., Any]) -> None:
    pool: DriverPool = await open_pool()
    selects, others = observed("SELECT"), observed("OTHER")
    async with pool.connection() as connection:
        row = await connection.fetchrow("SELECT $1::int + 1 AS n", 41)
        status = await connection.execute("WITH t AS (SELECT 1) SELECT * FROM t", operation="OTHER")
    assert row is not None
    assert row["n"] == 42
    assert status == "SELECT 1"
    assert observed("SELECT") == selects + 1
    assert observed("OTHER") == others + 1


async def test_a_failing_statement_is_logged_without_its_values(
    open_pool: Callable[..., Any],
) -> None:
    pool: DriverPool = await open_pool()
    with pytest.raises(DatabaseError) as raised:
        async with pool.connection() as connection:
            await connection.execute("SELECT $1::text::int", "secret-value-123")
    assert "InvalidTextRepresentationError" in str(raised.value)
    assert "secret-value-123" not in str(raised.value)
    async with pool.connection() as connection:  # the connection is fine and still pooled
        assert await _one(connection) == 1


async def test_an_unreachable_database_is_a_503(open_pool: Callable[..., Any]) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    pool: DriverPool = await open_pool(
        POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=closed_port, POSTGRES_CONNECT_TIMEOUT_SECONDS=1
    )
    with pytest.raises(ServiceUnavailableError):
        async with pool.connection():
            pass


async def test_a_connection_the_server_ended_is_a_503_and_is_replaced(
    open_pool: Callable[..., Any], make_settings: Callable[..., Settings]
) -> None:
    pool: DriverPool = await open_pool(POSTGRES_DRIVER_POOL_SIZE=1)
    admin = await asyncpg.connect(driver_dsn(make_settings().database_url))

    async def ended_while_held() -> None:
        async with pool.connection() as connection:
            row = await connection.fetchrow("SELECT pg_backend_pid() AS pid")
            assert row is not None
            await admin.execute("SELECT pg_terminate_backend($1)", row["pid"])
            await asyncio.sleep(0.1)
            await connection.fetchrow("SELECT 1")

    try:
        with pytest.raises(ServiceUnavailableError):
            await ended_while_held()
    finally:
        await admin.close()
    async with pool.connection() as connection:  # the only slot holds a new connection
        assert await _one(connection) == 1


async def test_no_free_connection_in_time_is_a_503(open_pool: Callable[..., Any]) -> None:
    pool: DriverPool = await open_pool(
        POSTGRES_DRIVER_POOL_SIZE=1, POSTGRES_POOL_TIMEOUT_SECONDS=0.2
    )
    async with pool.connection():
        assert pool.checked_out == 1
        with pytest.raises(ServiceUnavailableError):
            async with pool.connection():
                pass
    assert pool.checked_out == 0
    assert pool.max_size == 1
