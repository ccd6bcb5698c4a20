"""The system-metrics collector: psutil gauges, pool gauges, and a loop that survives errors."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.core.metrics.metrics_background_tasks import (
    collect_system_metrics,
    update_system_metrics,
)
from app.core.metrics.prometheus import prometheus
from tests.core.metrics.conftest import value


def gauge(name: str, **labels: str) -> float | None:
    return prometheus.registry.get_sample_value(name, labels)


async def test_a_round_sets_memory_and_cpu_percentages() -> None:
    await collect_system_metrics()
    used = gauge("system_memory_usage_percentage", type="used")
    free = gauge("system_memory_usage_percentage", type="free")
    cpu = gauge("system_cpu_usage_percentage")
    assert used is not None
    assert free is not None
    assert cpu is not None
    assert 0 < used < 100
    assert used + free == pytest.approx(100)
    assert 0 <= cpu <= 100


async def test_a_checked_out_connection_shows_on_metrics(
    make_client: Callable[..., Any], app_of: Callable[..., Any], scrape: Callable[..., Any]
) -> None:
    async def checked_out(client: httpx.AsyncClient, expected: float) -> dict[Any, float]:
        deadline = time.monotonic() + 5
        while True:
            series = await scrape(client, "/metrics/db_postgres_pool")
            if (
                value(series, "db_postgres_pool_checked_out") == expected
                or time.monotonic() > deadline
            ):
                return dict(series)
            await asyncio.sleep(0.05)

    async with make_client(
        SYSTEM_METRICS_INTERVAL_SECONDS=0.05, POSTGRES_POOL_SIZE=3, POSTGRES_DRIVER_POOL_SIZE=2
    ) as client:
        state = app_of(client).state
        async with state.engine.connect(), state.engine.connect(), state.driver_pool.connection():
            held = await checked_out(client, 3)
        released = await checked_out(client, 0)

    # Both pools: the engine's two connections and the driver pool's one.
    assert value(held, "db_postgres_pool_checked_out") == 3
    assert value(held, "db_postgres_poolsize") == 3 + 2
    assert value(held, "db_postgres_pool_overflow") == 0
    assert value(released, "db_postgres_pool_checked_out") == 0


class _BrokenEngine:
    """An engine whose pool cannot be read (a driver in a bad state)."""

    @property
    def pool(self) -> Any:
        raise OSError("pool unreadable")


async def test_a_failing_round_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = "background_job_failures_total"
    before = gauge(failures, job_name="update_system_metrics") or 0.0
    task = asyncio.create_task(update_system_metrics(_BrokenEngine(), 0.02))  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="app.core.metrics"):
        await asyncio.sleep(0.3)
        task.cancel()
        await asyncio.wait([task])

    assert task.cancelled()
    assert (gauge(failures, job_name="update_system_metrics") or 0.0) - before >= 3
    logged = [r for r in caplog.records if r.getMessage() == "system_metrics_failed"]
    assert len(logged) >= 3
    assert logged[0].exc_info is not None
    assert "pool unreadable" in str(logged[0].exc_info[1])
