"""The settings the benchmark runs our service (and its plain equivalent) with.

Production mode with keys generated for the run, so the service starts as it would in a
deployment: every middleware on, LOG_LEVEL=INFO, one JSON access line per request to
files under a temporary LOG_DIR and to the console. The rate limiter stays on; only the
login and registration budgets are raised so that the benchmark's own logins (hundreds
a minute from one address, for a handful of accounts) are counted but never refused.
REDIS_URL is left out: the limiter keeps its counters in the process.

The database is one of the benchmark's own, `<POSTGRES_DB>_bench` (as the tests use
`<POSTGRES_DB>_test`); it is dropped at the start of every run and created and migrated
again by the service itself (`python -m app`, or bench/apps/database.py).

The plain equivalents read the same database, keys, token audience and Argon2
parameters (`bare_config`), from their environment when served (`server_envs`).
"""

from __future__ import annotations

import os
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from app.core.config import Settings
from bench.apps.bare import BareConfig

UNLIMITED = "1000000/minute"


@cache
def generated_keys() -> dict[str, str]:
    """Signing keys and the metrics token, made once per benchmark run."""
    return {
        "ACCESS_TOKEN_SIGNING_KEY": secrets.token_urlsafe(48),
        "REFRESH_TOKEN_SIGNING_KEY": secrets.token_urlsafe(48),
        "METRICS_AUTH_TOKEN": secrets.token_urlsafe(32),
    }


BENCH_ENV: dict[str, str] = {
    "ENVIRONMENT": "production",
    "LOG_LEVEL": "INFO",
    "LOG_ACCESS": "true",
    "CORS_ALLOW_ORIGINS": "https://app.example.com",
    "RATE_LIMIT_ENABLED": "true",
    "RATE_LIMIT_LOGIN_PER_IP": UNLIMITED,
    "RATE_LIMIT_LOGIN_PER_EMAIL": UNLIMITED,
    "RATE_LIMIT_REGISTER_PER_IP": UNLIMITED,
    "RATE_LIMIT_REFRESH_PER_IP": UNLIMITED,
    "RATE_LIMIT_REFRESH_PER_SESSION": UNLIMITED,
    "RATE_LIMIT_PASSWORD_PER_IP": UNLIMITED,
    "WORKERS": "1",
    "HOST": "127.0.0.1",
    # The docs routes stay, as in the figures so far ("endpoint behind core routes").
    "DOCS_ENABLED": "true",
    # Whatever password the local PostgreSQL has: the benchmark is no deployment.
    "ALLOW_INSECURE_SETTINGS": "POSTGRES_PASSWORD",
}
# Variables of the caller's environment that would change what is measured.
DROPPED = ("REDIS_URL", "MONGO_URL", "PROMETHEUS_MULTIPROC_DIR", "LOG_JSON_CONSOLE")


def bench_database(base: Settings | None = None) -> str:
    """The benchmark's database name, beside the one POSTGRES_DB names."""
    base = base or Settings()
    return f"{base.POSTGRES_DB}_bench"


def bench_env(log_dir: Path) -> dict[str, str]:
    """The environment of a server subprocess: ours reads its Settings from it."""
    env = {key: value for key, value in os.environ.items() if key not in DROPPED}
    return {
        **env,
        **BENCH_ENV,
        **generated_keys(),
        "LOG_DIR": str(log_dir),
        "POSTGRES_DB": bench_database(),
    }


def bench_settings(log_dir: Path, **overrides: Any) -> Settings:
    """The same settings, built in this process (no .env file)."""
    values: dict[str, Any] = {
        **BENCH_ENV,
        **generated_keys(),
        "LOG_DIR": log_dir,
        "POSTGRES_DB": bench_database(),
        **overrides,
    }
    return Settings(_env_file=None, **values)


def bare_config(settings: Settings) -> BareConfig:
    """What the plain app needs of ours: the database, keys, token audience, Argon2."""
    return BareConfig(
        database_url=settings.database_url.replace("postgresql+asyncpg", "postgresql", 1),
        access_key=settings.ACCESS_TOKEN_SIGNING_KEY.get_secret_value(),
        refresh_key=settings.REFRESH_TOKEN_SIGNING_KEY.get_secret_value(),
        issuer=settings.project_identifier,
        audience=settings.project_client_identifier,
        argon2_time_cost=settings.ARGON2_TIME_COST,
        argon2_memory_cost_kib=settings.ARGON2_MEMORY_COST_KIB,
        argon2_parallelism=settings.ARGON2_PARALLELISM,
    )


def server_envs(workdir: Path) -> dict[str, dict[str, str]]:
    """The environments of fresh `ours` and `bare` server processes, logs under `workdir`.

    Fresh servers compile nothing twice: they share one bytecode cache, as a deployment's
    workers do.
    """
    ours = bench_env(workdir / "logs")
    ours.pop("PYTHONDONTWRITEBYTECODE", None)
    ours["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    bare = bare_config(bench_settings(workdir / "logs"))
    return {"ours": ours, "bare": {**ours, **bare.as_env()}}
