"""Fixtures of the CLI tests: `python -m app.cli` as a subprocess against the real test
database, in a clean environment without a .env file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from tests.conftest import TEST_SIGNING_KEYS
from tests.core.test_audit import sound

REPO = Path(__file__).resolve().parents[2]
ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
CliRunner = Callable[..., subprocess.CompletedProcess[str]]

SOUND_PRODUCTION = sound()  # production settings the audit accepts


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
