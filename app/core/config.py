"""Application settings, read from the environment or a `.env` file.

Every variable of the spec keeps its name and default. Variables we add (Redis, logging,
proxies, limits, key files...) are listed with a comment in `.env.example`.

Settings are read at the edges (`create_app`, lifespan, `Depends`); reusable pieces take
plain parameters. What a deployment must not start with is checked by `app.core.audit`.
Imports nothing of ours.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from limits import parse as parse_rate_limit
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_ACCESS_KEY = "change-me-access-token-signing-key"
PLACEHOLDER_REFRESH_KEY = "change-me-refresh-token-signing-key"

Environment = Literal["development", "test", "staging", "production"]
StrList = Annotated[list[str], NoDecode]
SecretList = Annotated[list[SecretStr], NoDecode]
PathList = Annotated[list[Path], NoDecode]
TOKEN_KEY_PREFIXES = ("ACCESS_TOKEN", "REFRESH_TOKEN")


def _parse_str_list(value: Any) -> Any:
    """Accept `a,b`, a JSON list, or an already parsed list."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("["):
        return json.loads(text)
    return [item.strip() for item in text.split(",") if item.strip()]


def _read_secret(path: Path, variable: str) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{variable}: cannot read {path}: {exc.strerror}") from exc


class Settings(BaseSettings):
    """Every knob of the service, typed and validated once at startup."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
    )

    # Project
    PROJECT_NAME: str = "FastAPI Service Core"
    PROJECT_DESCRIPTION: str = "Production core for FastAPI services."
    PROJECT_VERSION: str = "0.1.0"
    ENVIRONMENT: Environment = "development"

    # Serving (python -m app)
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=1, le=65535)
    WORKERS: int = Field(default=1, ge=1, le=64)
    SHUTDOWN_TIMEOUT_SECONDS: int = Field(default=10, ge=1, le=300)

    # API docs: /docs, /redoc and /openapi.json. Unset: on, except in production.
    DOCS_ENABLED: bool | None = None

    # Deployment audit (app.core.audit): variables whose findings this deployment accepts
    # on purpose; production then warns instead of refusing. Signing keys cannot be listed.
    ALLOW_INSECURE_SETTINGS: StrList = []

    # CORS
    CORS_ALLOW_ORIGINS: StrList = ["*"]
    CORS_ALLOW_CREDENTIALS: bool = True
    CORS_ALLOW_METHODS: StrList = ["*"]
    CORS_ALLOW_HEADERS: StrList = ["*"]

    # Postgres
    POSTGRES_USER: str = "postgres"
    POSTGRES_PASSWORD: SecretStr = SecretStr("postgres")
    POSTGRES_HOST: str = "localhost"
    POSTGRES_PORT: int = Field(default=5432, ge=1, le=65535)
    # Unset: the project's own database, PROJECT_NAME as an identifier (created when missing).
    POSTGRES_DB: str = ""
    # Sized so 32 concurrent requests per worker do not open and close overflow
    # connections all the time (each costs a connect, TLS attempt and type
    # introspection). The pool opens connections only as load needs them; recycled
    # hourly so no connection lives forever.
    POSTGRES_POOL_SIZE: int = Field(default=32, ge=1)
    POSTGRES_MAX_OVERFLOW: int = Field(default=8, ge=0)
    # A second, smaller pool per worker: the auth hot paths (login, refresh) run their
    # statements on asyncpg directly (app.db.postgres.driver).
    POSTGRES_DRIVER_POOL_SIZE: int = Field(default=10, ge=1)
    POSTGRES_POOL_RECYCLE_SECONDS: int = Field(default=3600, ge=-1)
    POSTGRES_POOL_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0)
    POSTGRES_CONNECT_TIMEOUT_SECONDS: float = Field(default=3.0, gt=0)
    POSTGRES_COMMAND_TIMEOUT_SECONDS: float = Field(default=30.0, gt=0)
    POSTGRES_EMBEDDED_DIR: Path = Path(".data/postgres")
    # Keep the embedded server running after the service stops (the next start reuses it).
    POSTGRES_EMBEDDED_KEEP: bool = False

    # Redis (unset: in-process rate limiter)
    REDIS_URL: str | None = None

    # MongoDB (optional)
    MONGO_URL: SecretStr | None = None

    # JWT
    ACCESS_TOKEN_SIGNING_KEY: SecretStr = SecretStr(PLACEHOLDER_ACCESS_KEY)
    REFRESH_TOKEN_SIGNING_KEY: SecretStr = SecretStr(PLACEHOLDER_REFRESH_KEY)
    JWT_ALGORITHM: Literal["HS256", "HS384", "HS512", "RS256", "ES256", "EdDSA"] = "HS256"
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(default=15, ge=1)
    REFRESH_TOKEN_EXPIRE_DAYS: int = Field(default=60, ge=1)
    SESSION_EXPIRE_DAYS: int = Field(default=180, ge=1)
    # Live sessions per user; a login beyond it revokes the user's oldest sessions.
    MAX_SESSIONS_PER_USER: int = Field(default=20, ge=1)
    # Revoked or expired sessions are deleted this long after they died, every interval.
    SESSION_PURGE_RETENTION_DAYS: int = Field(default=7, ge=0)
    SESSION_PURGE_INTERVAL_SECONDS: float = Field(default=3600.0, gt=0)
    JWT_LEEWAY_SECONDS: int = Field(default=0, ge=0, le=60)
    REFRESH_REUSE_GRACE_SECONDS: int = Field(default=0, ge=0, le=60)
    # Authenticated callers cached per process (app/auth/session_cache.py), invalidated
    # by PostgreSQL LISTEN/NOTIFY; the TTL is only a safety net. 0 entries: no cache.
    AUTH_CACHE_MAX_ENTRIES: int = Field(default=10_000, ge=0)
    AUTH_CACHE_TTL_SECONDS: float = Field(default=30.0, gt=0, le=3600)
    # An open WebSocket re-checks its session this often (and closes at the token's exp).
    WS_SESSION_CHECK_SECONDS: float = Field(default=5.0, gt=0, le=3600)
    # Keys from files (Docker/Kubernetes secrets); a file replaces its variable.
    ACCESS_TOKEN_SIGNING_KEY_FILE: Path | None = None
    REFRESH_TOKEN_SIGNING_KEY_FILE: Path | None = None
    # Rotation: keys that no longer sign but still verify (HMAC secrets or PEM keys).
    ACCESS_TOKEN_PREVIOUS_KEYS: SecretList = []
    REFRESH_TOKEN_PREVIOUS_KEYS: SecretList = []
    ACCESS_TOKEN_PREVIOUS_KEY_FILES: PathList = []
    REFRESH_TOKEN_PREVIOUS_KEY_FILES: PathList = []
    # Key of the HMAC that stands in for emails in logs and rate-limit keys; unset, one is
    # derived from ACCESS_TOKEN_SIGNING_KEY (set it to keep digests across key rotations).
    EMAIL_DIGEST_KEY: SecretStr | None = None

    # Passwords (Argon2id; OWASP's minimums are the floor)
    PASSWORD_MIN_LENGTH: int = Field(default=8, ge=1)
    PASSWORD_MAX_LENGTH: int = Field(default=128, ge=64, le=4096)
    ARGON2_TIME_COST: int = Field(default=2, ge=2)
    ARGON2_MEMORY_COST_KIB: int = Field(default=19_456, ge=19_456)
    ARGON2_PARALLELISM: int = Field(default=1, ge=1)
    PASSWORD_HASH_CONCURRENCY: int = Field(default=2, ge=1)

    # HTTP
    TRUSTED_PROXIES: StrList = []
    # The one forwarded header those proxies set (the other is passed through, unread).
    TRUSTED_PROXY_HEADER: Literal["X-Forwarded-For", "Forwarded"] = "X-Forwarded-For"
    MAX_REQUEST_BODY_BYTES: int = Field(default=1_048_576, ge=1)
    # Request line plus headers, as `python -m app` serves (431 beyond; at most 100 fields).
    MAX_REQUEST_HEADER_BYTES: int = Field(default=32_768, ge=4_096, le=1_048_576)

    # Rate limiting
    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_LOGIN_PER_IP: str = "20/minute"
    RATE_LIMIT_LOGIN_PER_EMAIL: str = "5/minute"
    RATE_LIMIT_REGISTER_PER_IP: str = "5/hour"
    # A client refreshes once per access-token lifetime; these leave room for many tabs
    # and for many users behind one NAT, and stop a loop hammering one session.
    RATE_LIMIT_REFRESH_PER_IP: str = "60/minute"
    RATE_LIMIT_REFRESH_PER_SESSION: str = "10/minute"
    # Password changes need the current password: a stolen access token must not buy
    # unlimited guesses at it.
    RATE_LIMIT_PASSWORD_PER_IP: str = "10/minute"  # noqa: S105  (a rate, not a secret)
    RATE_LIMIT_MEMORY_MAX_KEYS: int = Field(default=100_000, ge=100)
    RATE_LIMIT_REDIS_RETRY_SECONDS: float = Field(default=5.0, gt=0, le=300)

    # Logging
    LOG_DIR: Path = Path("logs")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    LOG_JSON_CONSOLE: bool | None = None
    LOG_ACCESS: bool = True  # one access line per request (method, route, status, duration)

    # Metrics
    METRICS_AUTH_TOKEN: SecretStr | None = None
    SYSTEM_METRICS_INTERVAL_SECONDS: float = Field(default=5.0, gt=0)
    # FastAPI's own OpenTelemetry instrumentation, for an OTel SDK you configure. Off, a
    # request skips FastAPI's per-request check for configured providers.
    OTEL_ENABLED: bool = False

    @field_validator(
        "CORS_ALLOW_ORIGINS",
        "CORS_ALLOW_METHODS",
        "CORS_ALLOW_HEADERS",
        "TRUSTED_PROXIES",
        "ACCESS_TOKEN_PREVIOUS_KEYS",
        "REFRESH_TOKEN_PREVIOUS_KEYS",
        "ACCESS_TOKEN_PREVIOUS_KEY_FILES",
        "REFRESH_TOKEN_PREVIOUS_KEY_FILES",
        "ALLOW_INSECURE_SETTINGS",
        mode="before",
    )
    @classmethod
    def _split_lists(cls, value: Any) -> Any:
        return _parse_str_list(value)

    @field_validator(
        "RATE_LIMIT_LOGIN_PER_IP",
        "RATE_LIMIT_LOGIN_PER_EMAIL",
        "RATE_LIMIT_REGISTER_PER_IP",
        "RATE_LIMIT_REFRESH_PER_IP",
        "RATE_LIMIT_REFRESH_PER_SESSION",
        "RATE_LIMIT_PASSWORD_PER_IP",
    )
    @classmethod
    def _check_rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # ValueError for anything but "<n>/<period>", e.g. "20/minute"
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        """Unset POSTGRES_DB: `fastapi_service_core` for `FastAPI Service Core`, never the
        server's `postgres` maintenance database."""
        if not self.POSTGRES_DB:
            self.POSTGRES_DB = self.project_identifier.replace("-", "_") or "app"
        return self

    @model_validator(mode="after")
    def _read_key_files(self) -> Settings:
        """Load `*_FILE` keys into their variables so every reader sees one value."""
        for prefix in TOKEN_KEY_PREFIXES:
            variable = f"{prefix}_SIGNING_KEY"
            path: Path | None = getattr(self, f"{variable}_FILE")
            if path is not None:
                if variable in self.model_fields_set:
                    raise ValueError(f"set {variable} or {variable}_FILE, not both")
                setattr(self, variable, SecretStr(_read_secret(path, f"{variable}_FILE")))
            files: list[Path] = getattr(self, f"{prefix}_PREVIOUS_KEY_FILES")
            if files:
                previous: list[SecretStr] = getattr(self, f"{prefix}_PREVIOUS_KEYS")
                extra = [
                    SecretStr(_read_secret(file, f"{prefix}_PREVIOUS_KEY_FILES")) for file in files
                ]
                setattr(self, f"{prefix}_PREVIOUS_KEYS", [*previous, *extra])
        return self

    @field_validator("ALLOW_INSECURE_SETTINGS")
    @classmethod
    def _check_setting_names(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(cls.model_fields))
        if unknown:
            raise ValueError(f"not settings: {', '.join(unknown)}")
        return value

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def _check_cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ipaddress.ip_network(cidr, strict=False)
        return value

    @property
    def is_production(self) -> bool:
        return self.ENVIRONMENT == "production"

    @property
    def docs_enabled(self) -> bool:
        """Whether /docs, /redoc and /openapi.json are served (DOCS_ENABLED, else not in production)."""
        return not self.is_production if self.DOCS_ENABLED is None else self.DOCS_ENABLED

    @property
    def project_identifier(self) -> str:
        """Lowercase, hyphenated project name: `FastAPI Service Core` -> `fastapi-service-core`."""
        return re.sub(r"[^a-z0-9]+", "-", self.PROJECT_NAME.lower()).strip("-")

    @property
    def project_client_identifier(self) -> str:
        """The JWT audience."""
        return f"{self.project_identifier}-client"

    def _postgres_url(self, database: str) -> str:
        # Built by hand rather than with sqlalchemy.URL so that reading settings (and
        # refusing insecure ones at startup) does not import SQLAlchemy.
        user = quote(self.POSTGRES_USER, safe="")
        password = quote(self.POSTGRES_PASSWORD.get_secret_value(), safe="")
        name = quote(database, safe="")
        if self.POSTGRES_HOST.startswith("/"):  # a Unix socket directory (embedded server)
            query = urlencode({"host": self.POSTGRES_HOST, "port": self.POSTGRES_PORT})
            return f"postgresql+asyncpg://{user}:{password}@/{name}?{query}"
        host = f"[{self.POSTGRES_HOST}]" if ":" in self.POSTGRES_HOST else self.POSTGRES_HOST
        return f"postgresql+asyncpg://{user}:{password}@{host}:{self.POSTGRES_PORT}/{name}"

    @property
    def database_url(self) -> str:
        return self._postgres_url(self.POSTGRES_DB)

    @property
    def test_database_url(self) -> str:
        return self._postgres_url(f"{self.POSTGRES_DB}_test")

    @property
    def database_server_url(self) -> str:
        """The server's default `postgres` database, for creating other databases."""
        return self._postgres_url("postgres")

    @cached_property
    def email_digest_key(self) -> bytes:
        """EMAIL_DIGEST_KEY, or a key derived from the access-token signing key (once)."""
        if self.EMAIL_DIGEST_KEY is not None:
            return self.EMAIL_DIGEST_KEY.get_secret_value().encode()
        signing_key = self.ACCESS_TOKEN_SIGNING_KEY.get_secret_value().encode()
        return hmac.new(signing_key, b"email-digest-key", hashlib.sha256).digest()

    @property
    def access_token_timedelta(self) -> timedelta:
        return timedelta(minutes=self.ACCESS_TOKEN_EXPIRE_MINUTES)

    @property
    def refresh_token_timedelta(self) -> timedelta:
        return timedelta(days=self.REFRESH_TOKEN_EXPIRE_DAYS)

    @property
    def session_default_timedelta(self) -> timedelta:
        return timedelta(days=self.SESSION_EXPIRE_DAYS)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, created once."""
    return Settings()
