"""`python -m app.cli` as a subprocess against the real test database and the real API."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.audit import audit_settings
from app.core.config import Settings
from tests.auth.conftest import bearer, login, register, signed_in, within_a_second
from tests.conftest import TEST_SIGNING_KEYS
from tests.core.test_audit import sound

REPO = Path(__file__).resolve().parents[2]
ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
CliRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(database_overrides: dict[str, Any], tmp_path: Path) -> CliRunner:
    """`run_cli(*args, input=..., **env)`: the CLI in a clean environment, no .env file."""

    def run(*args: str, input: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        base = {
            key: value
            for key, value in os.environ.items()
            if key not in Settings.model_fields or key.startswith("POSTGRES_")
        }
        full_env = {
            **base,
            "PYTHONPATH": str(REPO),
            "ENVIRONMENT": "test",
            "LOG_DIR": str(tmp_path / "logs"),
            **TEST_SIGNING_KEYS,
            **{name: str(value) for name, value in database_overrides.items()},
            **env,
        }
        return subprocess.run(
            [sys.executable, "-m", "app.cli", *args],
            cwd=tmp_path,  # no .env file there
            env=full_env,
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    return run


SOUND_PRODUCTION = sound()  # production settings the audit accepts


def test_check_passes_sound_production_settings(run_cli: CliRunner) -> None:
    result = run_cli("check", **SOUND_PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout


def test_check_exits_non_zero_naming_each_finding_and_its_fix(run_cli: CliRunner) -> None:
    result = run_cli(
        "check", **{**SOUND_PRODUCTION, "RATE_LIMIT_ENABLED": "false", "TRUSTED_PROXIES": "::/0"}
    )
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert [line.split()[1] for line in failures] == ["TRUSTED_PROXIES:", "RATE_LIMIT_ENABLED:"]
    assert all("fix:" in line for line in failures)


def test_check_audits_development_settings_as_production_would(run_cli: CliRunner) -> None:
    result = run_cli("check", ENVIRONMENT="development", POSTGRES_PASSWORD="postgres")
    assert result.returncode == 1
    assert "FAIL POSTGRES_PASSWORD" in result.stdout


def test_check_accepts_what_allow_insecure_settings_names(run_cli: CliRunner) -> None:
    env = {
        **SOUND_PRODUCTION,
        "RATE_LIMIT_ENABLED": "false",
        "ALLOW_INSECURE_SETTINGS": "RATE_LIMIT_ENABLED",
    }
    result = run_cli("check", **env)
    assert result.returncode == 0, result.stdout
    assert "ACCEPTED (ALLOW_INSECURE_SETTINGS) RATE_LIMIT_ENABLED" in result.stdout


def test_keys_generate_prints_a_secret_the_audit_accepts(run_cli: CliRunner) -> None:
    first, second = run_cli("keys", "generate"), run_cli("keys", "generate")
    assert first.returncode == second.returncode == 0
    access, refresh = first.stdout.strip(), second.stdout.strip()
    assert access != refresh
    assert len(access.encode()) >= 64  # enough for HS512
    values = {
        **SOUND_PRODUCTION,
        "ACCESS_TOKEN_SIGNING_KEY": access,
        "REFRESH_TOKEN_SIGNING_KEY": refresh,
        "JWT_ALGORITHM": "HS512",
    }
    settings = Settings(_env_file=None, **values)
    assert audit_settings(settings) == []


def test_keys_generate_writes_a_secret_file_only_its_owner_reads(
    run_cli: CliRunner, tmp_path: Path
) -> None:
    result = run_cli("keys", "generate", "--out", str(tmp_path / "keys"), "--name", "refresh")
    assert result.returncode == 0, result.stderr
    path = tmp_path / "keys" / "refresh.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "REFRESH_TOKEN_SIGNING_KEY_FILE=" in result.stdout


@pytest.mark.parametrize("algorithm", ["RS256", "ES256", "EdDSA"])
async def test_generated_key_pairs_sign_tokens_the_service_accepts(
    run_cli: CliRunner, make_client: ClientFactory, tmp_path: Path, algorithm: str
) -> None:
    out = tmp_path / "keys"
    for name in ("access", "refresh"):
        result = run_cli(
            "keys", "generate", "--algorithm", algorithm, "--out", str(out), "--name", name
        )
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE((out / f"{name}.pem").stat().st_mode) == 0o600
        assert stat.S_IMODE((out / f"{name}.pub.pem").stat().st_mode) == 0o644
    keys = {
        "ACCESS_TOKEN_SIGNING_KEY": (out / "access.pem").read_text(),
        "REFRESH_TOKEN_SIGNING_KEY": (out / "refresh.pem").read_text(),
    }
    assert (
        audit_settings(
            Settings(_env_file=None, **{**SOUND_PRODUCTION, **keys, "JWT_ALGORITHM": algorithm})
        )
        == []
    )
    async with make_client(JWT_ALGORITHM=algorithm, **keys) as client:
        session = await signed_in(client)
        me = await client.get("/api/auth/me", headers=bearer(session["access_token"]))
    assert me.status_code == 200


def test_keys_generate_never_overwrites_a_key(run_cli: CliRunner, tmp_path: Path) -> None:
    out = str(tmp_path / "keys")
    assert run_cli("keys", "generate", "--algorithm", "ES256", "--out", out).returncode == 0
    before = (tmp_path / "keys" / "access.pem").read_text()
    again = run_cli("keys", "generate", "--algorithm", "ES256", "--out", out)
    assert again.returncode == 1
    assert "exists" in again.stderr
    assert (tmp_path / "keys" / "access.pem").read_text() == before


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


def test_sessions_revoke_needs_exactly_one_target(run_cli: CliRunner) -> None:
    assert run_cli("sessions", "revoke").returncode == 2


def test_an_unreachable_database_exits_3(run_cli: CliRunner) -> None:
    result = run_cli(
        "sessions",
        "revoke",
        "--user",
        "a@example.com",
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT="1",
        POSTGRES_CONNECT_TIMEOUT_SECONDS="1",
    )
    assert result.returncode == 3
    assert "database unavailable" in result.stderr
