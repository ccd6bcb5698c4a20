"""Concurrent refreshes with one refresh token, against a real `python -m app` process.

Two tabs (or eight) refreshing at the same moment must each get an answer promptly:
exactly one 200, 401 for every other, the session revoked as reuse, and no database
connection of the service left `idle in transaction`. A real server process is used
because the failure lived in how the request's connection and a second pooled
connection waited on each other, which an in-process client does not reproduce.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings
from tests.system.app_process import AppProcess

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
# Generous next to the sub-second answer expected: only a hang should exceed it.
ROUND_TIMEOUT_SECONDS = 10.0


@pytest.fixture
async def database(database_overrides: dict[str, Any]) -> AsyncIterator[AsyncEngine]:
    settings = Settings(_env_file=None, **database_overrides)  # type: ignore[call-arg]
    engine = create_async_engine(settings.database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def _idle_in_transaction(database: AsyncEngine) -> list[str]:
    """The queries last run by connections to the test database left idle in a transaction."""
    async with database.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT query FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
        return [row.query for row in rows]


async def _revoked(database: AsyncEngine, session_id: str) -> bool:
    async with database.connect() as connection:
        row = await connection.execute(
            text("SELECT revoked_at FROM user_sessions WHERE id = :id"),
            {"id": uuid.UUID(session_id)},
        )
        return row.scalar_one() is not None


async def _race(client: httpx.AsyncClient, email: str, contenders: int) -> tuple[list[int], str]:
    """Log in, then send `contenders` refreshes with the one refresh token at once."""
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    pair = login.json()["data"]
    refreshes = [
        client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        for _ in range(contenders)
    ]
    answers = await asyncio.wait_for(asyncio.gather(*refreshes), ROUND_TIMEOUT_SECONDS)
    return sorted(answer.status_code for answer in answers), pair["session_id"]


@pytest.mark.parametrize(("contenders", "rounds"), [(2, 50), (8, 10)])
async def test_concurrent_refreshes_with_one_token_answer_one_200_and_401s(
    start_app: Callable[..., AppProcess], database: AsyncEngine, contenders: int, rounds: int
) -> None:
    app = start_app(RATE_LIMIT_ENABLED="false")
    email = f"race-{uuid.uuid4().hex[:8]}@example.com"
    # One connection per request: the contenders must reach the server side by side.
    limits = httpx.Limits(max_connections=contenders + 1, max_keepalive_connections=contenders + 1)
    async with httpx.AsyncClient(base_url=app.url, limits=limits, timeout=30.0) as client:
        created = await client.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert created.status_code == 201, created.text
        for round_number in range(rounds):
            try:
                statuses, session_id = await _race(client, email, contenders)
            except TimeoutError:
                stuck = await _idle_in_transaction(database)
                pytest.fail(
                    f"round {round_number}: no answer in time; idle in transaction: {stuck}"
                )
            assert statuses == [200] + [401] * (contenders - 1), f"round {round_number}"
            assert await _revoked(database, session_id), f"round {round_number}: reuse not revoked"
            assert await _idle_in_transaction(database) == [], f"round {round_number}"
