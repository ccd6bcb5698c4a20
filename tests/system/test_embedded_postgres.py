"""The embedded PostgreSQL `python -m app` starts when nothing answers on POSTGRES_PORT.

The service stops what it started: after SIGTERM the embedded server is gone, unless
POSTGRES_EMBEDDED_KEEP asks to keep it, which the log says at start and at stop. The
tests point POSTGRES_PORT at a free port, so the embedded server is used even where
(as in CI) a real PostgreSQL runs on the default port.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.system.app_process import AppProcess, free_port

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT_SECONDS = 120.0  # initdb on a busy machine


def _postgres_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _gone_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


@pytest.fixture
def embedded_app(
    tmp_path: Path, database_overrides: dict[str, Any]
) -> Iterator[tuple[Path, list[AppProcess]]]:
    """(the data directory, the apps started on it); a server left running is stopped.

    The data lives outside pytest's temporary tree: the server runs as another user, and
    a concurrent pytest session on this machine may prune older temporary trees.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="embedded-postgres-test-")) / "data"
    apps: list[AppProcess] = []
    try:
        yield data_dir, apps
    finally:
        for app in apps:
            app.stop()
        pid_file = data_dir / "postmaster.pid"
        if pid_file.exists():
            pid = _postgres_pid(data_dir)
            if _alive(pid):
                os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast shutdown"
                _gone_within(pid, 15)
        shutil.rmtree(data_dir.parent, ignore_errors=True)


def _start(
    tmp_path: Path, database_overrides: dict[str, Any], data_dir: Path, **env: str
) -> AppProcess:
    app = AppProcess(
        tmp_path / f"app-{time.monotonic_ns()}",
        database_overrides,
        ENVIRONMENT="development",
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=str(free_port()),  # nothing answers there
        POSTGRES_EMBEDDED_DIR=str(data_dir),
        **env,
    )
    return app


def _records(app: AppProcess, message: str) -> list[dict[str, Any]]:
    return [record for record in app.log_records() if record["message"] == message]


def test_sigterm_stops_the_embedded_postgres_it_started(
    tmp_path: Path,
    database_overrides: dict[str, Any],
    embedded_app: tuple[Path, list[AppProcess]],
) -> None:
    data_dir, apps = embedded_app
    app = _start(tmp_path, database_overrides, data_dir)
    apps.append(app)
    app.start(timeout=STARTUP_TIMEOUT_SECONDS)
    pid = _postgres_pid(data_dir)
    assert _alive(pid)

    [started] = _records(app, "embedded_postgres_started")
    socket_path = Path(started["extra"]["socket"])
    assert socket_path.is_socket()  # where it really listens
    assert started["extra"]["stops_with_service"] is True

    app.terminate()
    assert app.wait(timeout=60) == 0
    assert _gone_within(pid, 15), "the embedded PostgreSQL outlived the service"
    messages = [record["message"] for record in app.log_records()]
    assert "embedded_postgres_stopped" in messages, messages[-8:]
    # The bootstrap's lines are one line each: no multi-line tool output in a message.
    for record in app.log_records():
        assert "\n" not in record["message"], record["message"][:200]


def test_keeping_the_embedded_postgres_is_opt_in_and_announced(
    tmp_path: Path,
    database_overrides: dict[str, Any],
    embedded_app: tuple[Path, list[AppProcess]],
) -> None:
    data_dir, apps = embedded_app
    app = _start(tmp_path, database_overrides, data_dir, POSTGRES_EMBEDDED_KEEP="true")
    apps.append(app)
    app.start(timeout=STARTUP_TIMEOUT_SECONDS)
    pid = _postgres_pid(data_dir)
    [started] = _records(app, "embedded_postgres_started")
    assert started["extra"]["stops_with_service"] is False

    app.terminate()
    assert app.wait(timeout=60) == 0
    assert _alive(pid)
    [kept] = _records(app, "embedded_postgres_kept_running")
    assert kept["extra"]["pid"] == pid


def test_each_worker_serves_on_the_embedded_postgres(
    tmp_path: Path,
    database_overrides: dict[str, Any],
    embedded_app: tuple[Path, list[AppProcess]],
) -> None:
    """The workers get the prepared settings from `python -m app`, not from the environment.

    Their environment still names the free port where nothing answers: a worker reading
    its settings from there would answer readiness with a 503.
    """
    data_dir, apps = embedded_app
    app = _start(tmp_path, database_overrides, data_dir, WORKERS="2")
    apps.append(app)
    app.start(timeout=STARTUP_TIMEOUT_SECONDS)
    app.wait_for_workers(2, timeout=STARTUP_TIMEOUT_SECONDS)
    statuses: list[int] = []
    answered_by: set[str] = set()
    deadline = time.monotonic() + 60
    while len(answered_by) < 2 and time.monotonic() < deadline:
        statuses.append(httpx.get(f"{app.url}/health/ready", timeout=10).status_code)
        answered_by = {
            name
            for name, record in app.log_records_by_file()
            if record["message"] == "request" and record["extra"]["path"] == "/health/ready"
        }
    assert len(answered_by) == 2, "one worker answered every request"
    assert set(statuses) == {200}
