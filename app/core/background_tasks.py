"""The global background task registry, started and stopped by the lifespan."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine


def global_background_tasks(engine: AsyncEngine | None = None) -> list[asyncio.Task[None]]:
    """Start the app-wide periodic tasks; the lifespan cancels them at shutdown."""
    return []


async def cancel_background_tasks(
    tasks: list[asyncio.Task[None]], grace_seconds: float = 5.0
) -> None:
    """Cancel and await `tasks`; a task ignoring cancellation can't hold shutdown past `grace_seconds`."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=grace_seconds)
