"""The engine factory: pool settings, and query durations observed by operation."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.metrics.prometheus import prometheus
from app.db.postgres.engine import statement_operation


def observed(operation: str) -> float:
    count = prometheus.registry.get_sample_value(
        "db_postgres_query_duration_seconds_count", {"operation": operation}
    )
    return count or 0.0


@pytest.mark.parametrize(
    ("statement", "operation"),
    [
        ("SELECT 1", "SELECT"),
        ("  \n select * from t", "SELECT"),
        ("INSERT INTO t VALUES (1)", "INSERT"),
        ("update t set a = 1", "UPDATE"),
        ("DELETE FROM t", "DELETE"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "OTHER"),
        ("CREATE TABLE t (a int)", "OTHER"),
        ("SELECTED", "OTHER"),
        ("", "OTHER"),
    ],
)
def test_statement_operation(statement: str, operation: str) -> None:
    assert statement_operation(statement) == operation


async def test_pool_follows_the_settings(engine: AsyncEngine) -> None:
    assert engine.pool.size() == 4  # type: ignore[attr-defined]
    assert engine.pool._max_overflow == 2  # type: ignore[attr-defined]


async def test_real_queries_are_observed_by_operation(engine: AsyncEngine) -> None:
    before = {op: observed(op) for op in ("SELECT", "INSERT", "UPDATE", "DELETE", "OTHER")}
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TEMPORARY TABLE obs_probe (n int)"))
        await connection.execute(text("INSERT INTO obs_probe VALUES (1), (2)"))
        await connection.execute(text("UPDATE obs_probe SET n = n + 1"))
        for _ in range(3):
            await connection.execute(text("SELECT n FROM obs_probe"))
        await connection.execute(text("DELETE FROM obs_probe"))
    moved = {op: observed(op) - count for op, count in before.items()}

    assert moved["INSERT"] == moved["UPDATE"] == moved["DELETE"] == 1
    assert moved["SELECT"] >= 3
    assert moved["OTHER"] >= 1  # CREATE (and BEGIN/COMMIT where the driver sends them)


async def test_a_failing_query_does_not_break_later_observations(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        with pytest.raises(Exception, match="obs_missing"):
            await connection.execute(text("SELECT * FROM obs_missing"))
    before = observed("SELECT")
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    assert observed("SELECT") - before == 1


async def test_readiness_queries_move_the_histogram_on_metrics(client: httpx.AsyncClient) -> None:
    def count(body: str) -> float:
        prefix = 'db_postgres_query_duration_seconds_count{operation="SELECT"} '
        line = next((row for row in body.splitlines() if row.startswith(prefix)), prefix + "0")
        return float(line.removeprefix(prefix))

    before = count((await client.get("/metrics")).text)
    for _ in range(3):
        assert (await client.get("/health/ready")).status_code == 200
    after = count((await client.get("/metrics")).text)
    assert after - before >= 3
