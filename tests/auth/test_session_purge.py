"""The purge of dead sessions, alone against the real database: what goes, what stays.

The purge as the app runs it in the background is tested over HTTP in
test_session_bounds.py (`test_dead_sessions_are_purged_in_the_background`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from app.auth.session_purge import (
    PURGE_BATCH_SIZE,
    purge_dead_sessions,
    purge_dead_sessions_periodically,
)
from app.core.config import Settings
from app.core.metrics.prometheus import prometheus
from app.db.postgres import create_database_engine
from tests.auth.conftest import AuthWiring

Sql = Callable[..., Any]
RETENTION = timedelta(days=7)
USER = uuid.UUID("00000000-0000-0000-0000-000000000001")

DAY = timedelta(days=1)
# One user and a session per state: (expires_at, revoked_at) relative to now().
SESSIONS = {
    "revoked-8-days-ago": (30 * DAY, -8 * DAY),
    "expired-8-days-ago": (-8 * DAY, None),
    "revoked-just-now": (30 * DAY, timedelta(0)),
    "revoked-6-days-ago": (30 * DAY, -6 * DAY),
    "expired-yesterday": (-DAY, None),
    "live": (30 * DAY, None),
}
DEAD_LONG_ENOUGH = {"revoked-8-days-ago", "expired-8-days-ago"}


async def seeded(sql: Sql) -> None:
    """A user with one session in each state of SESSIONS, its fingerprint its name."""
    await sql(
        "INSERT INTO users (id, email, password_hash) VALUES (:user, 'ada@example.com', 'x')",
        user=USER,
    )
    for name, (expires_in, revoked_in) in SESSIONS.items():
        await sql(
            "INSERT INTO user_sessions (id, user_id, refresh_token_hash, fingerprint,"
            " expires_at, revoked_at) VALUES (gen_random_uuid(), :user, 'digest', :name,"
            " now() + :expires_in, now() + :revoked_in)",
            user=USER,
            name=name,
            expires_in=expires_in,
            revoked_in=revoked_in,
        )


async def remaining(sql: Sql) -> set[str]:
    return {row["fingerprint"] for row in await sql("SELECT fingerprint FROM user_sessions")}


def job_failures() -> float:
    value = prometheus.registry.get_sample_value(
        "background_job_failures_total", {"job_name": "purge_dead_sessions"}
    )
    return value or 0.0


async def test_sessions_dead_longer_than_the_retention_go_and_the_rest_stay(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await seeded(sql)
    deleted = await purge_dead_sessions(auth_wiring.sessionmaker, RETENTION)
    assert deleted == len(DEAD_LONG_ENOUGH)
    assert await remaining(sql) == set(SESSIONS) - DEAD_LONG_ENOUGH
    assert await purge_dead_sessions(auth_wiring.sessionmaker, RETENTION) == 0


async def test_a_purge_deletes_batch_after_batch_until_none_is_left(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await seeded(sql)
    extra = PURGE_BATCH_SIZE + 10
    await sql(
        "INSERT INTO user_sessions (id, user_id, refresh_token_hash, fingerprint, expires_at)"
        " SELECT gen_random_uuid(), :user, 'digest', 'old', now() - interval '9 days'"
        " FROM generate_series(1, :n)",
        user=USER,
        n=extra,
    )
    deleted = await purge_dead_sessions(auth_wiring.sessionmaker, RETENTION)
    assert deleted == extra + len(DEAD_LONG_ENOUGH)
    assert await remaining(sql) == set(SESSIONS) - DEAD_LONG_ENOUGH


async def test_the_periodic_purge_waits_an_interval_before_its_first_round(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await seeded(sql)
    task = asyncio.create_task(
        purge_dead_sessions_periodically(auth_wiring.sessionmaker, RETENTION, 0.5)
    )
    try:
        await asyncio.sleep(0.2)
        assert await remaining(sql) == set(SESSIONS)
        for _ in range(100):  # the first round, within 5 s
            if await remaining(sql) != set(SESSIONS):
                break
            await asyncio.sleep(0.05)
        assert await remaining(sql) == set(SESSIONS) - DEAD_LONG_ENOUGH
        assert not task.done()
    finally:
        task.cancel()


async def test_a_failed_round_is_counted_and_the_next_round_still_runs(
    make_settings: Callable[..., Settings], closed_port: int
) -> None:
    settings = make_settings(POSTGRES_PORT=closed_port, POSTGRES_CONNECT_TIMEOUT_SECONDS=1)
    engine = create_database_engine(settings)
    before = job_failures()
    task = asyncio.create_task(
        purge_dead_sessions_periodically(async_sessionmaker(engine), RETENTION, 0.01)
    )
    try:
        for _ in range(200):  # two failed rounds, within 10 s
            if job_failures() >= before + 2:
                break
            await asyncio.sleep(0.05)
        assert job_failures() >= before + 2
        assert not task.done()
    finally:
        task.cancel()
        await engine.dispose()
