"""The Typer application of `python -m app.cli` (app.cli.main): `check`, usage errors and
exit codes."""

from __future__ import annotations

from tests.cli.conftest import SOUND_PRODUCTION, CliRunner


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
