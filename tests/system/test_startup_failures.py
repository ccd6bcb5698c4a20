"""`python -m app` failing to start: each cause its own exit code and a one-line message."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.__main__ import ExitCode
from tests.conftest import TEST_SIGNING_KEYS
from tests.system.app_process import REPO, free_port

pytestmark = pytest.mark.slow


def _run_app(tmp_path: Path, database_overrides: dict[str, Any], **env: str) -> tuple[int, str]:
    environment = {
        **os.environ,
        "ENVIRONMENT": "test",
        "HOST": "127.0.0.1",
        "LOG_DIR": str(tmp_path / "logs"),
        "LOG_LEVEL": "INFO",
        **TEST_SIGNING_KEYS,
        **{name: str(value) for name, value in database_overrides.items()},
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, result.stderr


def test_a_taken_port_exits_with_its_own_code_before_touching_the_database(
    tmp_path: Path, database_overrides: dict[str, Any]
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, stderr = _run_app(tmp_path, database_overrides, PORT=str(port))
    assert code == ExitCode.PORT_UNAVAILABLE, stderr
    last_line = stderr.strip().splitlines()[-1]
    assert f"127.0.0.1:{port}" in last_line
    assert "in use" in last_line
    # Found before the migrations ran (alembic logs when it starts).
    assert "alembic" not in stderr


def test_an_unreachable_database_exits_with_its_own_code(
    tmp_path: Path, database_overrides: dict[str, Any]
) -> None:
    code, stderr = _run_app(
        tmp_path,
        database_overrides,
        PORT=str(free_port()),
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=str(free_port()),
    )
    assert code == ExitCode.DATABASE_UNAVAILABLE, stderr
    assert "database unavailable" in stderr.strip().splitlines()[-1]


def test_exit_codes_are_distinct() -> None:
    codes = [code.value for code in ExitCode]
    assert len(set(codes)) == len(codes)
    assert 0 not in codes
    assert 1 not in codes  # 1 stays "crashed": a traceback
