"""The periodic system-metrics collector: memory, CPU and the PostgreSQL pool.

It receives the AsyncEngine (and the driver pool, as a `ConnectionPool`) from the
lifespan, so `core` never imports `app.db`.
psutil reads /proc and `cpu_percent(interval=None)` compares with the previous call
instead of sleeping, so a round takes microseconds on the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import psutil

from app.core.logger import get_logger
from app.core.metrics.decorators import track_background_job
from app.core.metrics.global_metrics import (
    db_postgres_pool_checked_out,
    db_postgres_pool_overflow,
    db_postgres_poolsize,
    system_cpu_usage,
    system_memory_usage,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_INTERVAL_SECONDS = 5.0

logger = get_logger("app.core.metrics")

_memory_used = system_memory_usage.labels("used")
_memory_free = system_memory_usage.labels("free")


class ConnectionPool(Protocol):
    """A pool beside the engine's (the asyncpg driver pool): its size and what is in use."""

    @property
    def max_size(self) -> int: ...

    @property
    def checked_out(self) -> int: ...


def _observe_pool(pool: Any, others: Sequence[ConnectionPool] = ()) -> None:
    """Pool gauges from a QueuePool plus `others`; pools without these counters are skipped.

    SQLAlchemy's `overflow()` is negative while fewer connections than `pool_size` exist;
    the gauge shows connections beyond the pool size, so it never goes below 0. The
    other pools add their maximum size and their connections in use.
    """
    size, checked_out, overflow = (
        getattr(pool, n, None) for n in ("size", "checkedout", "overflow")
    )
    if size is None or checked_out is None or overflow is None:
        return
    db_postgres_poolsize.set(size() + sum(other.max_size for other in others))
    db_postgres_pool_checked_out.set(checked_out() + sum(other.checked_out for other in others))
    db_postgres_pool_overflow.set(max(0, overflow()))


@track_background_job("update_system_metrics")
async def collect_system_metrics(
    engine: AsyncEngine | None = None, other_pools: Sequence[ConnectionPool] = ()
) -> None:
    """One round: memory used/free %, CPU %, and the pool gauges of `engine` (and others)."""
    memory = psutil.virtual_memory()
    _memory_used.set(memory.percent)
    _memory_free.set(100.0 - memory.percent)
    system_cpu_usage.set(psutil.cpu_percent(interval=None))
    if engine is not None:
        _observe_pool(engine.pool, other_pools)


async def update_system_metrics(
    engine: AsyncEngine | None = None,
    interval_seconds: float = DEFAULT_INTERVAL_SECONDS,
    other_pools: Sequence[ConnectionPool] = (),
) -> None:
    """Run `collect_system_metrics` every `interval_seconds` until cancelled.

    A failing round is logged and counted (background_job_failures_total); the loop
    goes on, so one bad read never stops the gauges for the life of the process.
    """
    psutil.cpu_percent(interval=None)  # the first call only sets the reference point
    while True:
        try:
            await collect_system_metrics(engine, other_pools)
        except Exception:
            logger.exception("system_metrics_failed")
        await asyncio.sleep(interval_seconds)
