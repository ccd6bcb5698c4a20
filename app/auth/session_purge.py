"""The background task that deletes dead sessions: revoked or expired long enough ago.

Without it `user_sessions` only grows (every login adds a row). Rows are kept for
`retention` after they die, so a reused refresh token is still recognised as reuse for
a while and recent revocations stay visible to whoever looks. Each round deletes in
batches, skipping rows another worker is deleting, so every worker may run it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import UserSession
from app.core.logger import get_logger
from app.core.metrics import track_background_job

logger = get_logger("app.auth.session_purge")

PURGE_BATCH_SIZE = 5_000


@track_background_job("purge_dead_sessions")
async def purge_dead_sessions(
    sessionmaker: async_sessionmaker[AsyncSession], retention: timedelta
) -> int:
    """Delete sessions revoked or expired more than `retention` ago; how many were deleted."""
    cutoff = datetime.now(UTC) - retention
    dead = or_(UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff)
    deleted = 0
    while True:
        batch = (
            select(UserSession.id)
            .where(dead)
            .limit(PURGE_BATCH_SIZE)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        async with sessionmaker() as db, db.begin():
            result = await db.execute(
                delete(UserSession)
                .where(UserSession.id.in_(batch))
                .execution_options(synchronize_session=False)
            )
        count = cast("CursorResult[Any]", result).rowcount or 0  # a DELETE's result
        deleted += count
        if count < PURGE_BATCH_SIZE:
            break
    if deleted:
        logger.info("dead_sessions_purged", extra={"count": deleted})
    return deleted


async def purge_dead_sessions_periodically(
    sessionmaker: async_sessionmaker[AsyncSession], retention: timedelta, interval_seconds: float
) -> None:
    """Run `purge_dead_sessions` every `interval_seconds` until cancelled; a failure waits a round.

    The first round runs one interval after startup, not at it: a starting worker (or
    many, restarted together) adds no database work before it serves.
    """
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            await purge_dead_sessions(sessionmaker, retention)
        except Exception:
            logger.exception("dead_sessions_purge_failed")
