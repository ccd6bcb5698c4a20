"""What `python -m app` says when it starts, once per start, and the files it leaves."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from app.core.audit import audit
from app.core.config import Settings
from tests.conftest import TEST_SIGNING_KEYS
from tests.system.app_process import AppProcess

pytestmark = pytest.mark.slow


def _serve_once(tmp_path: Path, database_overrides: dict[str, Any]) -> AppProcess:
    app = AppProcess(tmp_path, database_overrides, WORKERS="2")
    try:
        app.start(timeout=90)
        app.wait_for_workers(2, timeout=90)
    finally:
        app.stop()
    return app


def test_two_workers_warn_once_say_where_they_serve_and_reuse_their_log_files(
    tmp_path: Path, database_overrides: dict[str, Any]
) -> None:
    expected = audit(
        Settings(_env_file=None, ENVIRONMENT="test", **TEST_SIGNING_KEYS, **database_overrides)
    ).warned
    assert expected  # the test settings keep CORS '*' with credentials, at least
    app = _serve_once(tmp_path, database_overrides)
    records = list(app.log_records())
    warned = Counter(r["extra"]["variable"] for r in records if r["message"] == "insecure_setting")
    assert warned == Counter(finding.variable for finding in expected)
    urls = [r["extra"] for r in records if r["message"] == "service_urls"]
    assert urls == [
        {
            "api": f"{app.url}/api",
            "health": f"{app.url}/health",
            "docs": f"{app.url}/docs",
            "metrics": f"{app.url}/metrics",
        }
    ]
    files = sorted(path.name for path in app.log_dir.glob("*.json"))
    assert files == ["app.0.json", "app.1.json", "app.2.json"]  # supervisor and two workers

    _serve_once(tmp_path, database_overrides)
    assert sorted(path.name for path in app.log_dir.glob("*.json")) == files
