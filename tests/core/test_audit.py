"""The deployment audit: each refusal names its variable and its fix; staging, overrides."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.core.audit import (
    InsecureSettingsError,
    audit,
    audit_settings,
    key_entropy_bits,
    log_warnings,
)
from app.core.config import PLACEHOLDER_ACCESS_KEY, Settings
from app.main import create_app
from tests.core.pem_keys import private_pem


def sound(**overrides: Any) -> dict[str, Any]:
    """Production settings the audit accepts, plus `overrides`."""
    return {
        "ENVIRONMENT": "production",
        "ACCESS_TOKEN_SIGNING_KEY": secrets.token_urlsafe(32),
        "REFRESH_TOKEN_SIGNING_KEY": secrets.token_urlsafe(32),
        "CORS_ALLOW_ORIGINS": "https://app.example",
        "POSTGRES_PASSWORD": secrets.token_urlsafe(16),
        "METRICS_AUTH_TOKEN": secrets.token_urlsafe(16),
        **overrides,
    }


def bare(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def refused(settings: Settings) -> dict[str, str]:
    return {finding.variable: finding.problem for finding in audit(settings).refused}


def test_sound_production_settings_pass() -> None:
    assert audit_settings(bare(**sound())) == []


def _secret_file(tmp_path: Path, mode: int) -> Path:
    path = tmp_path / "access.key"
    path.write_text(secrets.token_urlsafe(32))
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("overrides", "variable", "fix"),
    [
        (
            {"ACCESS_TOKEN_PREVIOUS_KEYS": PLACEHOLDER_ACCESS_KEY},
            "ACCESS_TOKEN_PREVIOUS_KEYS",
            "keys generate",
        ),
        ({"ACCESS_TOKEN_SIGNING_KEY": "a" * 32}, "ACCESS_TOKEN_SIGNING_KEY", "keys generate"),
        ({"REFRESH_TOKEN_SIGNING_KEY": "ab" * 16}, "REFRESH_TOKEN_SIGNING_KEY", "keys generate"),
        ({"TRUSTED_PROXIES": "0.0.0.0/0"}, "TRUSTED_PROXIES", "TRUSTED_PROXIES="),
        ({"TRUSTED_PROXIES": "10.0.0.0/8,::/0"}, "TRUSTED_PROXIES", "TRUSTED_PROXIES="),
        ({"RATE_LIMIT_ENABLED": "false"}, "RATE_LIMIT_ENABLED", "RATE_LIMIT_ENABLED=true"),
        ({"POSTGRES_PASSWORD": "postgres"}, "POSTGRES_PASSWORD", "POSTGRES_PASSWORD"),
        ({"PASSWORD_MIN_LENGTH": "7"}, "PASSWORD_MIN_LENGTH", "PASSWORD_MIN_LENGTH=8"),
        ({"ACCESS_TOKEN_SIGNING_KEY": "x" * 31}, "ACCESS_TOKEN_SIGNING_KEY", "keys generate"),
        ({"CORS_ALLOW_ORIGINS": "*"}, "CORS_ALLOW_ORIGINS", "CORS_ALLOW_ORIGINS=https://"),
    ],
)
def test_production_refuses_naming_the_variable_and_the_fix(
    overrides: dict[str, Any], variable: str, fix: str
) -> None:
    findings = refused(bare(**sound(**overrides)))
    assert list(findings) == [variable] or variable in findings
    assert fix in findings[variable]
    assert "fix:" in findings[variable]


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602])
def test_production_refuses_key_files_other_users_can_read(tmp_path: Path, mode: int) -> None:
    path = _secret_file(tmp_path, mode)
    settings_without_key = {k: v for k, v in sound().items() if k != "ACCESS_TOKEN_SIGNING_KEY"}
    settings = bare(**settings_without_key, ACCESS_TOKEN_SIGNING_KEY_FILE=str(path))
    findings = refused(settings)
    assert list(findings) == ["ACCESS_TOKEN_SIGNING_KEY_FILE"]
    assert f"chmod 600 {path}" in findings["ACCESS_TOKEN_SIGNING_KEY_FILE"]


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o640])
def test_key_files_only_their_owner_and_group_read_pass(tmp_path: Path, mode: int) -> None:
    path = _secret_file(tmp_path, mode)
    values = {k: v for k, v in sound().items() if k != "ACCESS_TOKEN_SIGNING_KEY"}
    assert refused(bare(**values, ACCESS_TOKEN_SIGNING_KEY_FILE=str(path))) == {}


def test_asymmetric_keys_name_the_key_pair_command() -> None:
    settings = bare(
        **sound(
            JWT_ALGORITHM="ES256",
            ACCESS_TOKEN_SIGNING_KEY=private_pem("ES256"),
            REFRESH_TOKEN_SIGNING_KEY=private_pem("ES256", 1),
            ACCESS_TOKEN_PREVIOUS_KEYS=PLACEHOLDER_ACCESS_KEY,
        )
    )
    findings = refused(settings)
    assert "keys generate --algorithm ES256" in findings["ACCESS_TOKEN_PREVIOUS_KEYS"]


def test_entropy_estimate_orders_keys() -> None:
    assert key_entropy_bits("a" * 32) == 0
    assert key_entropy_bits("ab" * 16) < key_entropy_bits(secrets.token_hex(16))
    assert key_entropy_bits(secrets.token_urlsafe(32)) > 128


def test_staging_refuses_wildcard_cors_with_credentials_and_warns_about_the_rest() -> None:
    settings = bare(**sound(ENVIRONMENT="staging", CORS_ALLOW_ORIGINS="*", RATE_LIMIT_ENABLED="0"))
    verdict = audit(settings)
    assert [finding.variable for finding in verdict.refused] == ["CORS_ALLOW_ORIGINS"]
    assert [finding.variable for finding in verdict.warned] == ["RATE_LIMIT_ENABLED"]


def test_development_only_warns() -> None:
    verdict = audit(bare(RATE_LIMIT_ENABLED="false"))
    assert verdict.refused == []
    assert "RATE_LIMIT_ENABLED" in {finding.variable for finding in verdict.warned}


def test_allow_insecure_settings_turns_a_refusal_into_a_warning() -> None:
    settings = bare(
        **sound(RATE_LIMIT_ENABLED="false", ALLOW_INSECURE_SETTINGS="RATE_LIMIT_ENABLED")
    )
    verdict = audit(settings)
    assert verdict.refused == []
    assert [finding.variable for finding in verdict.warned] == ["RATE_LIMIT_ENABLED"]


def test_signing_keys_cannot_be_allowed() -> None:
    settings = bare(
        **sound(
            ACCESS_TOKEN_PREVIOUS_KEYS=PLACEHOLDER_ACCESS_KEY,
            ALLOW_INSECURE_SETTINGS="ACCESS_TOKEN_PREVIOUS_KEYS",
        )
    )
    assert list(refused(settings)) == ["ACCESS_TOKEN_PREVIOUS_KEYS"]


def test_allow_insecure_settings_must_name_settings() -> None:
    with pytest.raises(ValueError, match="NOT_A_SETTING"):
        bare(ALLOW_INSECURE_SETTINGS="NOT_A_SETTING")


def test_create_app_refuses_in_production_with_the_fix_in_the_message(
    make_settings: Callable[..., Settings],
) -> None:
    values = sound(ACCESS_TOKEN_PREVIOUS_KEYS=PLACEHOLDER_ACCESS_KEY)
    values.pop("POSTGRES_PASSWORD")
    with pytest.raises(InsecureSettingsError) as caught:
        create_app(make_settings(**values, ALLOW_INSECURE_SETTINGS="POSTGRES_PASSWORD"))
    assert "ACCESS_TOKEN_PREVIOUS_KEYS" in str(caught.value)
    assert "python -m app.cli keys generate" in str(caught.value)


def test_public_metrics_in_production_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    values = sound()
    values.pop("METRICS_AUTH_TOKEN")
    settings = bare(**values)
    with caplog.at_level(logging.WARNING, logger="app.audit"):
        log_warnings(settings, audit(settings))
    notices = [record for record in caplog.records if record.getMessage() == "startup_notice"]
    assert len(notices) == 1
    assert "METRICS_AUTH_TOKEN" in notices[0].notice  # type: ignore[attr-defined]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="app.audit"):
        log_warnings(bare(**sound()), audit(bare(**sound())))
    assert caplog.records == []
