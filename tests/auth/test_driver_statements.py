"""Statements run by asyncpg directly (app.db.postgres.driver) are timed like the rest.

A login's session and a refresh's rotation bypass SQLAlchemy's cursor events, so they
observe db_postgres_query_duration_seconds themselves, under the operation they perform.
"""

from __future__ import annotations

import httpx

from app.core.metrics.prometheus import prometheus
from tests.auth.conftest import login, register


def observed(operation: str) -> float:
    count = prometheus.registry.get_sample_value(
        "db_postgres_query_duration_seconds_count", {"operation": operation}
    )
    return count or 0.0


async def test_a_login_counts_its_credentials_select_and_its_session_insert(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    selects, inserts = observed("SELECT"), observed("INSERT")

    assert (await login(client)).status_code == 200

    assert observed("INSERT") - inserts == 1  # the session, with the cap, in one statement
    assert observed("SELECT") - selects >= 1  # the credentials


async def test_a_refresh_counts_its_rotation_as_an_update(client: httpx.AsyncClient) -> None:
    await register(client)
    pair = (await login(client)).json()["data"]
    updates = observed("UPDATE")

    response = await client.post("/api/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert response.status_code == 200, response.text
    assert observed("UPDATE") - updates == 1
