"""AuthService decisions seen through HTTP: equal-cost login failures, hash upgrades, logs.

The service alone, without HTTP, is tested in test_service.py."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.core.security.emails import email_digest
from tests.auth.conftest import PASSWORD, ClientFactory, log_records, login, register

Sql = Callable[..., Any]


async def median_seconds(client: httpx.AsyncClient, email: str, password: str, n: int) -> float:
    durations = []
    for _ in range(n):
        started = time.perf_counter()
        response = await login(client, email, password)
        durations.append(time.perf_counter() - started)
        assert response.status_code == 401
    return statistics.median(durations)


@pytest.mark.slow
async def test_unknown_email_costs_a_password_verification(make_client: ClientFactory) -> None:
    """Not a benchmark: with a deliberately slow hash, skipping the dummy verification
    for unknown emails would make them many times faster than a wrong password."""
    async with make_client(RATE_LIMIT_ENABLED=False, ARGON2_TIME_COST=8) as client:
        await register(client)
        await login(client, password="warm-up")
        wrong = await median_seconds(client, "ada@example.com", "not the password", 3)
        unknown = await median_seconds(client, "nobody@example.com", "not the password", 3)
    assert unknown > 0.5 * wrong, (unknown, wrong)


async def test_login_upgrades_an_outdated_password_hash(
    make_client: ClientFactory, sql: Sql
) -> None:
    # Nested: leaving a client's context empties the tables.
    async with make_client() as old, make_client(ARGON2_TIME_COST=3) as new:
        assert (await register(old)).status_code == 201
        [before] = await sql("SELECT password_hash FROM users")
        assert ",t=2," in before["password_hash"]

        assert (await login(new)).status_code == 200
        [after] = await sql("SELECT password_hash FROM users")
        assert ",t=3," in after["password_hash"]
        # The upgraded hash still verifies the same password.
        assert (await login(new)).status_code == 200
        assert (await login(new, password="wrong password")).status_code == 401


async def test_login_keeps_a_current_hash(client: httpx.AsyncClient, sql: Sql) -> None:
    await register(client)
    [before] = await sql("SELECT password_hash FROM users")
    assert (await login(client)).status_code == 200
    [after] = await sql("SELECT password_hash FROM users")
    assert after == before


async def test_auth_events_are_logged_without_secrets_or_emails(
    make_client: ClientFactory, tmp_path: Path, settings: Settings
) -> None:
    log_dir = tmp_path / "event-logs"
    email = "ada@example.com"
    async with make_client(LOG_DIR=log_dir, LOG_LEVEL="INFO") as client:
        user_id = (await register(client, email)).json()["data"]["id"]
        await login(client, email, "wrong password")
        first = (await login(client, email)).json()["data"]
        second = (
            await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
        ).json()["data"]
        await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    text = "\n".join(path.read_text() for path in log_dir.glob("*.json"))
    for secret in (
        email,
        PASSWORD,
        "wrong password",
        first["refresh_token"],
        first["access_token"],
        second["refresh_token"],
    ):
        assert secret not in text
    events = {r["message"]: r.get("extra", {}) for r in log_records(log_dir)}
    assert {r["message"]: r.get("user_id") for r in log_records(log_dir)}[
        "user_registered"
    ] == user_id
    assert events["login_failed"]["reason"] == "wrong_password"
    assert events["login_failed"]["email_hmac"] == email_digest(email, settings.email_digest_key)
    assert events["login_succeeded"]["session_id"] == first["session_id"]
    assert events["session_refreshed"]["session_id"] == first["session_id"]
    assert events["refresh_reuse_detected"]["session_id"] == first["session_id"]


async def test_auth_events_carry_the_user_id_at_the_top_level_only(
    make_client: ClientFactory, tmp_path: Path
) -> None:
    """A log query by user (`user_id` at the top level) finds every auth event of the user."""
    log_dir = tmp_path / "user-logs"
    async with make_client(LOG_DIR=log_dir, LOG_LEVEL="INFO") as client:
        user_id = (await register(client)).json()["data"]["id"]
        await login(client, password="wrong password")
        first = (await login(client)).json()["data"]
        await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
        await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    records = log_records(log_dir)
    events = {record["message"]: record for record in records}
    for event in (
        "user_registered",
        "login_failed",
        "login_succeeded",
        "session_refreshed",
        "refresh_reuse_detected",
    ):
        assert events[event].get("user_id") == user_id, event
        assert "user_id" not in events[event].get("extra", {}), event
    # The access lines of the login and the refresh name the user too.
    answered = [
        record
        for record in records
        if record["message"] == "request"
        and record["extra"]["path"] in {"/api/auth/login", "/api/auth/refresh"}
        and record["extra"]["status"] == 200
    ]
    assert len(answered) == 2
    assert all(record.get("user_id") == user_id for record in answered)
