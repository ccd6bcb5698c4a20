"""A readiness check that timed out is kept until its cleanup ends; shutdown waits for it."""

from __future__ import annotations

import asyncio

from app.health.router import AbandonedChecks, _timed


async def test_a_timed_out_check_is_kept_and_waited_for() -> None:
    abandoned = AbandonedChecks()
    cleaned_up = asyncio.Event()

    async def hanging_check() -> None:
        try:
            await asyncio.sleep(60)
        finally:  # like asyncpg's graceful close, the cleanup itself takes a while
            await asyncio.sleep(0.2)
            cleaned_up.set()

    outcome = await _timed(hanging_check, abandoned)
    assert outcome["status"] == "error"
    assert outcome["error"] == "timeout"
    assert not cleaned_up.is_set()  # readiness answered without waiting for the cleanup
    await abandoned.wait()  # what the lifespan does before the engine is disposed
    assert cleaned_up.is_set()
