"""Settings: the spec's defaults and properties, list parsing, keys read from files, and the
startup check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from app.core.audit import InsecureSettingsError, find_insecure_settings
from app.core.config import (
    PLACEHOLDER_ACCESS_KEY,
    PLACEHOLDER_REFRESH_KEY,
    Settings,
    get_settings,
)
from tests.core.pem_keys import private_pem, public_pem

STRONG_ACCESS = "a" * 40
STRONG_REFRESH = "b" * 40


def bare(**values: object) -> Settings:
    """Settings from explicit values only: no .env file."""
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(Settings.model_fields):
        monkeypatch.delenv(name, raising=False)


def test_spec_defaults() -> None:
    settings = bare()
    assert settings.ENVIRONMENT == "development"
    assert settings.CORS_ALLOW_ORIGINS == ["*"]
    assert settings.CORS_ALLOW_METHODS == ["*"]
    assert settings.CORS_ALLOW_HEADERS == ["*"]
    assert settings.CORS_ALLOW_CREDENTIALS is True
    assert settings.POSTGRES_USER == "postgres"
    assert settings.POSTGRES_PASSWORD.get_secret_value() == "postgres"
    assert settings.POSTGRES_HOST == "localhost"
    assert settings.POSTGRES_PORT == 5432
    assert settings.POSTGRES_DB == "fastapi_service_core"  # the project's own, not `postgres`
    assert settings.LOG_LEVEL == "INFO"
    assert settings.JWT_ALGORITHM == "HS256"
    assert settings.ACCESS_TOKEN_EXPIRE_MINUTES == 15
    assert settings.REFRESH_TOKEN_EXPIRE_DAYS == 60
    assert settings.SESSION_EXPIRE_DAYS == 180
    assert settings.ACCESS_TOKEN_SIGNING_KEY.get_secret_value() == PLACEHOLDER_ACCESS_KEY
    assert settings.REFRESH_TOKEN_SIGNING_KEY.get_secret_value() == PLACEHOLDER_REFRESH_KEY


def test_database_defaults_to_the_project_identifier() -> None:
    assert bare(PROJECT_NAME="My Shop API").POSTGRES_DB == "my_shop_api"
    assert bare(PROJECT_NAME="My Shop API", POSTGRES_DB="shop").POSTGRES_DB == "shop"


def test_project_identifiers() -> None:
    settings = bare(PROJECT_NAME="  My Shop API v2 ")
    assert settings.project_identifier == "my-shop-api-v2"
    assert settings.project_client_identifier == "my-shop-api-v2-client"


def test_database_urls() -> None:
    settings = bare(
        POSTGRES_USER="svc",
        POSTGRES_PASSWORD="p@ss:w/rd",
        POSTGRES_HOST="db.internal",
        POSTGRES_PORT=6543,
        POSTGRES_DB="shop",
    )
    assert settings.database_url == "postgresql+asyncpg://svc:p%40ss%3Aw%2Frd@db.internal:6543/shop"
    assert settings.test_database_url.endswith("@db.internal:6543/shop_test")
    assert settings.database_server_url.endswith("@db.internal:6543/postgres")
    assert settings.database_server_url.startswith("postgresql+asyncpg://svc:")


def test_socket_directory_host_goes_into_the_query() -> None:
    settings = bare(POSTGRES_HOST="/run/pg", POSTGRES_PORT=5433, POSTGRES_DB="shop")
    url = make_url(settings.database_url)
    assert url.host is None
    assert url.database == "shop"
    assert url.query == {"host": "/run/pg", "port": "5433"}


def test_timedeltas() -> None:
    settings = bare(
        ACCESS_TOKEN_EXPIRE_MINUTES=7, REFRESH_TOKEN_EXPIRE_DAYS=3, SESSION_EXPIRE_DAYS=9
    )
    assert settings.access_token_timedelta == timedelta(minutes=7)
    assert settings.refresh_token_timedelta == timedelta(days=3)
    assert settings.session_default_timedelta == timedelta(days=9)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://a.example, https://b.example", ["https://a.example", "https://b.example"]),
        ('["https://a.example","https://b.example"]', ["https://a.example", "https://b.example"]),
        ("https://only.example", ["https://only.example"]),
    ],
)
def test_cors_lists_accept_commas_and_json(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("CORS_ALLOW_ORIGINS", raw)
    settings = bare()
    assert settings.CORS_ALLOW_ORIGINS == expected


def test_env_file_is_read(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"  # type: ignore[operator]
    env.write_text("PROJECT_NAME=From Dotenv\nPOSTGRES_PORT=6000\n")
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.project_identifier == "from-dotenv"
    assert settings.POSTGRES_PORT == 6000


def test_trusted_proxies_must_be_networks() -> None:
    assert bare(TRUSTED_PROXIES="10.0.0.0/8,127.0.0.1").TRUSTED_PROXIES == [
        "10.0.0.0/8",
        "127.0.0.1",
    ]
    with pytest.raises(ValidationError):
        bare(TRUSTED_PROXIES="not-a-network")


def test_get_settings_is_cached() -> None:
    get_settings.cache_clear()
    try:
        assert get_settings() is get_settings()
    finally:
        get_settings.cache_clear()


def variables(settings: Settings) -> set[str]:
    return {finding.variable for finding in find_insecure_settings(settings)}


def test_defaults_are_insecure_for_production() -> None:
    assert variables(bare()) == {
        "ACCESS_TOKEN_SIGNING_KEY",
        "REFRESH_TOKEN_SIGNING_KEY",
        "CORS_ALLOW_ORIGINS",
    }


def test_strong_distinct_keys_and_listed_origins_pass() -> None:
    settings = bare(
        ACCESS_TOKEN_SIGNING_KEY=STRONG_ACCESS,
        REFRESH_TOKEN_SIGNING_KEY=STRONG_REFRESH,
        CORS_ALLOW_ORIGINS="https://app.example",
    )
    assert find_insecure_settings(settings) == []


def test_short_hmac_key_is_flagged() -> None:
    settings = bare(
        ACCESS_TOKEN_SIGNING_KEY="x" * 31,
        REFRESH_TOKEN_SIGNING_KEY=STRONG_REFRESH,
        CORS_ALLOW_CREDENTIALS=False,
    )
    assert variables(settings) == {"ACCESS_TOKEN_SIGNING_KEY"}


def test_equal_keys_are_flagged() -> None:
    settings = bare(
        ACCESS_TOKEN_SIGNING_KEY=STRONG_ACCESS,
        REFRESH_TOKEN_SIGNING_KEY=STRONG_ACCESS,
        CORS_ALLOW_CREDENTIALS=False,
    )
    assert variables(settings) == {"REFRESH_TOKEN_SIGNING_KEY"}


def test_wildcard_origin_without_credentials_is_allowed() -> None:
    settings = bare(
        ACCESS_TOKEN_SIGNING_KEY=STRONG_ACCESS,
        REFRESH_TOKEN_SIGNING_KEY=STRONG_REFRESH,
        CORS_ALLOW_CREDENTIALS=False,
    )
    assert variables(settings) == set()


def test_error_message_names_every_variable() -> None:
    message = str(InsecureSettingsError(find_insecure_settings(bare())))
    assert "ACCESS_TOKEN_SIGNING_KEY" in message
    assert "REFRESH_TOKEN_SIGNING_KEY" in message
    assert "CORS_ALLOW_ORIGINS" in message


# --- keys read from files (*_FILE) ------------------------------------------------------

SECRET = "s" * 64


def test_keys_from_files(tmp_path: Path) -> None:
    access, refresh = tmp_path / "access.pem", tmp_path / "refresh.pem"
    old = tmp_path / "old.pub"
    access.write_text(private_pem("EdDSA") + "\n")
    refresh.write_text(private_pem("EdDSA", 1))
    old.write_text(public_pem(private_pem("EdDSA", 2)))
    settings = bare(
        JWT_ALGORITHM="EdDSA",
        ACCESS_TOKEN_SIGNING_KEY_FILE=str(access),
        REFRESH_TOKEN_SIGNING_KEY_FILE=str(refresh),
        ACCESS_TOKEN_PREVIOUS_KEYS=public_pem(private_pem("EdDSA", 3)),
        ACCESS_TOKEN_PREVIOUS_KEY_FILES=str(old),
    )
    assert settings.ACCESS_TOKEN_SIGNING_KEY.get_secret_value() == private_pem("EdDSA").strip()
    assert settings.REFRESH_TOKEN_SIGNING_KEY.get_secret_value() == private_pem("EdDSA", 1).strip()
    previous = [key.get_secret_value() for key in settings.ACCESS_TOKEN_PREVIOUS_KEYS]
    assert previous == [
        public_pem(private_pem("EdDSA", 3)).strip(),
        public_pem(private_pem("EdDSA", 2)).strip(),
    ]
    assert find_insecure_settings(settings.model_copy(update={"CORS_ALLOW_ORIGINS": []})) == []


def test_hmac_secret_file_drops_the_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET + "\n")
    assert (
        bare(ACCESS_TOKEN_SIGNING_KEY_FILE=str(secret)).ACCESS_TOKEN_SIGNING_KEY.get_secret_value()
        == SECRET
    )


def test_key_file_and_variable_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text(SECRET)
    with pytest.raises(ValidationError, match="not both"):
        bare(ACCESS_TOKEN_SIGNING_KEY=SECRET, ACCESS_TOKEN_SIGNING_KEY_FILE=str(secret))


def test_missing_key_file_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="REFRESH_TOKEN_SIGNING_KEY_FILE: cannot read"):
        bare(REFRESH_TOKEN_SIGNING_KEY_FILE=str(tmp_path / "absent"))
