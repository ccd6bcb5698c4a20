"""The settings both the benchmark process and its server subprocesses run with.

Production mode with non-placeholder secrets, so the service starts exactly as it would in
a deployment: every middleware on, JSON request logging to files under a temporary LOG_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from app.core.config import Settings

BENCH_ENV: dict[str, str] = {
    "ENVIRONMENT": "production",
    "LOG_LEVEL": "INFO",
    "ACCESS_TOKEN_SIGNING_KEY": "bench-access-signing-key-0123456789abcdef",
    "REFRESH_TOKEN_SIGNING_KEY": "bench-refresh-signing-key-0123456789abcdef",
    "METRICS_AUTH_TOKEN": "bench-metrics-token-0123456789abcdef",
    "CORS_ALLOW_ORIGINS": "https://app.example.com",
    "RATE_LIMIT_ENABLED": "true",
    # The docs routes stay, as in the figures so far ("endpoint behind core routes").
    "DOCS_ENABLED": "true",
    # Whatever password the local PostgreSQL has: the benchmark is no deployment.
    "ALLOW_INSECURE_SETTINGS": "POSTGRES_PASSWORD",
}


def bench_env(log_dir: Path) -> dict[str, str]:
    """The environment of a server subprocess: ours reads its Settings from it."""
    return {**os.environ, **BENCH_ENV, "LOG_DIR": str(log_dir)}


def bench_settings(log_dir: Path, **overrides: Any) -> Settings:
    """The same settings, built in this process (no .env file)."""
    values: dict[str, Any] = {**BENCH_ENV, "LOG_DIR": log_dir, **overrides}
    return Settings(_env_file=None, **values)
