"""`python -m app` (app/__main__.py): check the settings and the port, prepare the
database, serve. Its starts and failures with a real database and real workers are
tested in tests/system/test_startup.py and test_startup_failures.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.__main__ import ExitCode, main, port_unavailable, service_urls
from app.core.config import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_python_m_app_exits_fast_naming_the_variable(tmp_path: os.PathLike[str]) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("SIGNING_KEY") and not key.startswith("CORS_")
    }
    env |= {
        "ENVIRONMENT": "production",
        "LOG_DIR": str(tmp_path),
        "PORT": "1",
        "PYTHONPATH": str(REPO_ROOT),
    }
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        env=env,
        cwd=tmp_path,  # no .env file there
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == ExitCode.INSECURE_SETTINGS
    assert time.monotonic() - started < 5
    assert "ACCESS_TOKEN_SIGNING_KEY" in result.stderr


def test_main_refuses_an_invalid_setting_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env file there
    monkeypatch.setenv("PORT", "not-a-port")
    get_settings.cache_clear()
    try:
        code = main()
    finally:
        get_settings.cache_clear()
    assert code == ExitCode.INVALID_SETTINGS == 6
    assert capsys.readouterr().err.splitlines()[-1].startswith("invalid settings: PORT:")


def test_a_port_someone_listens_on_is_unavailable_with_the_reason() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert port_unavailable("127.0.0.1", port) == "Address already in use"


def test_a_free_port_is_available() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert port_unavailable("127.0.0.1", port) is None


def test_a_host_that_does_not_resolve_is_unavailable() -> None:
    assert port_unavailable("no-such-host.invalid", 8000) is not None


@pytest.mark.parametrize(
    ("host", "base"),
    [
        ("0.0.0.0", "http://127.0.0.1:8123"),  # noqa: S104  (naming the wildcard)
        ("::", "http://127.0.0.1:8123"),
        ("10.1.2.3", "http://10.1.2.3:8123"),
        ("::1", "http://[::1]:8123"),
    ],
)
def test_service_urls_name_an_address_a_browser_can_open(
    make_settings: Callable[..., Settings], host: str, base: str
) -> None:
    urls = service_urls(make_settings(HOST=host, PORT=8123, DOCS_ENABLED=True))
    assert urls == {
        "api": f"{base}/api",
        "health": f"{base}/health",
        "docs": f"{base}/docs",
        "metrics": f"{base}/metrics",
    }


def test_service_urls_leave_out_the_docs_when_they_are_off(
    make_settings: Callable[..., Settings],
) -> None:
    urls = service_urls(make_settings(HOST="127.0.0.1", PORT=8123, DOCS_ENABLED=False))
    assert set(urls) == {"api", "health", "metrics"}
