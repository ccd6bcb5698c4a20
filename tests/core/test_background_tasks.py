"""The lifespan's background tasks: started in the loop, cancelled and awaited at shutdown."""

from __future__ import annotations

import asyncio

from app.core.background_tasks import cancel_background_tasks, global_background_tasks
from app.core.metrics.prometheus import prometheus


def runs() -> float:
    value = prometheus.registry.get_sample_value(
        "background_job_runs_total", {"job_name": "update_system_metrics"}
    )
    return value or 0.0


async def test_system_metrics_task_runs_every_interval_until_cancelled() -> None:
    before = runs()
    tasks = global_background_tasks(None, system_metrics_interval=0.02)
    assert [task.get_name() for task in tasks] == ["update_system_metrics"]
    await asyncio.sleep(0.3)
    assert runs() - before >= 3

    await cancel_background_tasks(tasks)
    assert all(task.cancelled() for task in tasks)
    stopped = runs()
    await asyncio.sleep(0.1)
    assert runs() == stopped


async def test_a_task_ignoring_cancellation_cannot_hold_shutdown() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if release.is_set():
                    raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    await cancel_background_tasks([task], grace_seconds=0.1)
    assert asyncio.get_running_loop().time() - started < 1.0
    assert not task.done()

    release.set()
    task.cancel()
    await asyncio.wait([task])
    assert task.cancelled()
