"""The global background task registry, started and stopped by the lifespan.

The lifespan hands in what the tasks need (the AsyncEngine, intervals), so `core`
never imports `app.db`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.core.metrics.metrics_background_tasks import (
    DEFAULT_INTERVAL_SECONDS,
    ConnectionPool,
    update_system_metrics,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def global_background_tasks(
    engine: AsyncEngine | None = None,
    *,
    system_metrics_interval: float = DEFAULT_INTERVAL_SECONDS,
    other_pools: Sequence[ConnectionPool] = (),
) -> list[asyncio.Task[None]]:
    """Start the app-wide periodic tasks (in the running loop); the lifespan cancels them."""
    return [
        asyncio.create_task(
            update_system_metrics(engine, system_metrics_interval, other_pools),
            name="update_system_metrics",
        ),
    ]


async def cancel_background_tasks(
    tasks: list[asyncio.Task[None]], grace_seconds: float = 5.0
) -> None:
    """Cancel and await `tasks`; a task ignoring cancellation can't hold shutdown past `grace_seconds`."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=grace_seconds)
