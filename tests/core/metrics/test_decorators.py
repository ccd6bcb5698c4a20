"""@track_background_job: runs, failures and durations per job name."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from app.core.metrics import track_background_job
from app.core.metrics.prometheus import prometheus


def sample(name: str, job: str) -> float:
    return prometheus.registry.get_sample_value(name, {"job_name": job}) or 0.0


async def test_runs_and_durations_are_counted_and_the_result_returned() -> None:
    job = f"job-{uuid.uuid4().hex[:8]}"

    @track_background_job(job)
    async def send_emails(count: int) -> int:
        await asyncio.sleep(0.01)
        return count * 2

    assert [await send_emails(n) for n in range(3)] == [0, 2, 4]
    assert send_emails.__name__ == "send_emails"
    assert sample("background_job_runs_total", job) == 3
    assert sample("background_job_failures_total", job) == 0
    assert sample("background_job_duration_seconds_count", job) == 3
    assert sample("background_job_duration_seconds_sum", job) >= 0.03


async def test_a_failure_is_counted_and_re_raised() -> None:
    job = f"job-{uuid.uuid4().hex[:8]}"

    @track_background_job(job)
    async def flaky() -> None:
        raise ConnectionError("smtp down")

    for _ in range(2):
        with pytest.raises(ConnectionError, match="smtp down"):
            await flaky()
    assert sample("background_job_runs_total", job) == 2
    assert sample("background_job_failures_total", job) == 2
    assert sample("background_job_duration_seconds_count", job) == 2


async def test_cancellation_is_not_a_failure() -> None:
    job = f"job-{uuid.uuid4().hex[:8]}"

    @track_background_job(job)
    async def forever() -> None:
        await asyncio.sleep(3600)

    task = asyncio.create_task(forever())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sample("background_job_runs_total", job) == 1
    assert sample("background_job_failures_total", job) == 0
    assert sample("background_job_duration_seconds_count", job) == 0


def test_only_async_functions_can_be_tracked() -> None:
    def sync_job() -> None:
        return None

    with pytest.raises(TypeError, match="async"):
        track_background_job("sync")(sync_job)  # type: ignore[arg-type]
