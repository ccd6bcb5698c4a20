"""`python -m app.cli users` and `sessions`: accounts and sessions through the auth
domain's repositories, against the real test database and the real API."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from app.cli.accounts import (
    AccountError,
    create_user,
    normalised_email,
    revoke_session,
    revoke_user_sessions,
    unit_of_work,
)
from app.core.config import Settings
from app.core.security import PasswordSecurity
from tests.auth.conftest import (
    PASSWORD,
    bearer,
    login,
    register,
    signed_in,
    within_a_second,
)
from tests.cli.conftest import ClientFactory, CliRunner
from tests.conftest import _truncate_all


async def test_users_create_makes_an_admin_who_can_log_in(
    run_cli: CliRunner, make_client: ClientFactory
) -> None:
    password = "a long admin password"
    result = run_cli(
        "users",
        "create",
        " Root@Example.COM ",
        "--role",
        "admin",
        "--password-stdin",
        input=password + "\n",
    )
    assert result.returncode == 0, result.stderr
    async with make_client() as client:
        response = await login(client, "root@example.com", password)
        assert response.status_code == 200, response.text
        token = response.json()["data"]["access_token"]
        me = await client.get("/api/auth/me", headers=bearer(token))
    assert me.json()["data"]["roles"] == ["admin"]
    assert password not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-address", "a long enough password", "not an email address"),
        ("short@example.com", "short", "too short"),
    ],
)
def test_users_create_refuses_what_the_api_refuses(
    run_cli: CliRunner, email: str, password: str, message: str
) -> None:
    result = run_cli("users", "create", email, "--password-stdin", input=password + "\n")
    assert result.returncode == 1
    assert message in result.stderr


async def test_users_create_refuses_a_taken_email(
    run_cli: CliRunner, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        assert (await register(client, "taken@example.com")).status_code == 201
        result = run_cli(
            "users", "create", "taken@example.com", "--password-stdin", input="another password\n"
        )
    assert result.returncode == 1
    assert "already registered" in result.stderr


async def test_sessions_revoke_one_then_all_of_a_user(
    run_cli: CliRunner, make_client: ClientFactory
) -> None:
    async with make_client() as client:
        first = await signed_in(client, "ops@example.com")
        second = await signed_in(client, "ops@example.com")

        async def status(session: dict[str, Any]) -> int:
            response = await client.get("/api/auth/me", headers=bearer(session["access_token"]))
            return response.status_code

        async def statuses() -> list[int]:
            return [await status(first), await status(second)]

        result = run_cli("sessions", "revoke", first["session_id"])
        assert result.returncode == 0, result.stderr
        assert await within_a_second(statuses, [401, 200]) == [401, 200]

        again = run_cli("sessions", "revoke", first["session_id"])
        assert again.returncode == 1
        assert "no live session" in again.stderr

        result = run_cli("sessions", "revoke", "--user", "OPS@example.com")
        assert result.returncode == 0, result.stderr
        assert "revoked 1 session" in result.stdout
        assert await within_a_second(lambda: status(second), 401) == 401


# The same operations called in process, without the Typer layer (app.cli.accounts alone).


@pytest.fixture
async def cli_settings(settings: Settings) -> AsyncIterator[Settings]:
    """The test settings; the tables are emptied afterwards."""
    try:
        yield settings
    finally:
        await _truncate_all(settings)


async def rows(settings: Settings, statement: str, **params: Any) -> list[dict[str, Any]]:
    async with unit_of_work(settings) as db:
        result = await db.execute(text(statement), params)
        return [dict(row) for row in result.mappings()] if result.returns_rows else []


async def sessions_of(settings: Settings, email: str, count: int) -> list[uuid.UUID]:
    """`count` live sessions of a new user with `email`; their ids."""
    user = await create_user(settings, email=email, password=PASSWORD, roles=["user"])
    ids = [uuid.uuid4() for _ in range(count)]
    for session_id in ids:
        await rows(
            settings,
            "INSERT INTO user_sessions (id, user_id, refresh_token_hash, expires_at)"
            " VALUES (:id, :user_id, 'digest', now() + interval '1 hour')",
            id=session_id,
            user_id=user.id,
        )
    return ids


def test_an_address_is_normalised_as_the_api_stores_it() -> None:
    assert normalised_email("  Root@Example.COM ") == "root@example.com"
    with pytest.raises(AccountError, match="not an email address"):
        normalised_email("root@")


async def test_create_user_stores_each_role_once_and_a_hash_of_the_password(
    cli_settings: Settings,
) -> None:
    user = await create_user(
        cli_settings,
        email="Root@Example.com",
        password=PASSWORD,
        roles=["admin", "user", "admin"],
        full_name="Root",
    )
    [row] = await rows(cli_settings, "SELECT id, email, roles, full_name, password_hash FROM users")
    assert (row["id"], row["email"], row["roles"], row["full_name"]) == (
        user.id,
        "root@example.com",
        ["admin", "user"],
        "Root",
    )
    assert PasswordSecurity.from_settings(cli_settings).verify_password(
        PASSWORD, row["password_hash"]
    )


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("not-an-address", PASSWORD, "not an email address"),
        ("short@example.com", "short", "too short"),
        ("taken@example.com", PASSWORD, "taken@example.com is already registered"),
    ],
)
async def test_create_user_refuses_with_a_message_for_the_operator(
    cli_settings: Settings, email: str, password: str, message: str
) -> None:
    await create_user(cli_settings, email="taken@example.com", password=PASSWORD, roles=["user"])
    with pytest.raises(AccountError, match=re.escape(message)):
        await create_user(cli_settings, email=email, password=password, roles=["admin"])
    assert len(await rows(cli_settings, "SELECT id FROM users")) == 1


async def test_revoke_session_ends_one_live_session_once(cli_settings: Settings) -> None:
    first, second = await sessions_of(cli_settings, "ops@example.com", 2)
    await revoke_session(cli_settings, first)
    with pytest.raises(AccountError, match="no live session"):
        await revoke_session(cli_settings, first)
    live = await rows(cli_settings, "SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert [row["id"] for row in live] == [second]


async def test_revoke_user_sessions_ends_every_live_session_of_that_user_only(
    cli_settings: Settings,
) -> None:
    await sessions_of(cli_settings, "ops@example.com", 3)
    [others] = await sessions_of(cli_settings, "dev@example.com", 1)
    assert await revoke_user_sessions(cli_settings, " OPS@example.com") == 3
    assert await revoke_user_sessions(cli_settings, "ops@example.com") == 0
    with pytest.raises(AccountError, match=r"no user nobody@example\.com"):
        await revoke_user_sessions(cli_settings, "nobody@example.com")
    live = await rows(cli_settings, "SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert [row["id"] for row in live] == [others]
