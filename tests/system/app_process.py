"""`python -m app` as a real subprocess on a free port, for the shutdown and worker tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from tests.conftest import TEST_REDIS_URL, TEST_SIGNING_KEYS

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` s: nothing a test started is left running."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def two_workers_on_test_redis(
    tmp_path: Path, database_overrides: dict[str, Any], *, module: str = "app", **env: str
) -> Iterator[AppProcess]:
    """`WORKERS=2 python -m <module>` sharing the test Redis (flushed before and after),
    once both workers serve; skipped when that Redis does not answer."""
    redis = Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1.0)
    try:
        redis.flushdb()
    except OSError:
        pytest.skip(f"Redis at {TEST_REDIS_URL} is not available")
    app = AppProcess(
        tmp_path, database_overrides, module=module, WORKERS="2", REDIS_URL=TEST_REDIS_URL, **env
    )
    try:
        app.start(timeout=90)
        app.wait_for_workers(2)
        yield app
    finally:
        app.stop()
        redis.flushdb()
        redis.close()


class AppProcess:
    """One `python -m app` (with its workers), its URL and its log directory."""

    def __init__(
        self,
        tmp_path: Path,
        database_overrides: dict[str, Any],
        *,
        module: str = "app",
        **env: str,
    ) -> None:
        self.module = module  # what `python -m` runs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = tmp_path / "logs"
        self.stderr_path = tmp_path / "stderr.log"
        self.env = {
            **os.environ,
            "ENVIRONMENT": "test",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "LOG_DIR": str(self.log_dir),
            "LOG_LEVEL": "INFO",
            **TEST_SIGNING_KEYS,
            **{name: str(value) for name, value in database_overrides.items()},
            **env,
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process: subprocess.Popen[bytes] | None = None
        # The readiness probes' requests were answered (and logged) too.
        self.probe_request_ids: list[str] = []

    def start(self, timeout: float = 30.0) -> AppProcess:
        self.stderr_path.parent.mkdir(parents=True, exist_ok=True)
        with self.stderr_path.open("wb") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module],
                cwd=REPO,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"python -m app exited early:\n{self.stderr()}")
            try:
                probe = httpx.get(self.url + "/health", timeout=1.0)
            except httpx.HTTPError:
                pass
            else:
                self.probe_request_ids.append(probe.headers["x-request-id"])
                if probe.status_code == 200:
                    return self
            time.sleep(0.1)
        raise AssertionError(f"python -m app did not serve within {timeout} s:\n{self.stderr()}")

    def terminate(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Make sure nothing is left running (the tests' own SIGTERM usually did it)."""
        stop_process(self.process)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def log_records(self) -> Iterator[dict[str, Any]]:
        """Every JSON line of the INFO+ log files (one file set per worker, if so)."""
        for _, record in self.log_records_by_file():
            yield record

    def log_records_by_file(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(file name, record) for every line of `app*.json*`: the file tells the process."""
        for path in sorted(self.log_dir.glob("app*.json*")):
            for line in path.read_text().splitlines():
                if line.strip():
                    yield path.name, json.loads(line)

    def wait_for_workers(self, workers: int, timeout: float = 60.0) -> None:
        """Until `workers` processes have logged `startup_complete` (each serves then)."""
        self.wait_for_message("startup_complete", workers, timeout)

    def wait_for_message(self, message: str, processes: int, timeout: float = 60.0) -> None:
        """Until `message` stands in the log files of `processes` processes (workers)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            logged = {
                name for name, record in self.log_records_by_file() if record["message"] == message
            }
            if len(logged) >= processes:
                return
            time.sleep(0.2)
        raise AssertionError(f"{processes} processes did not log {message!r} within {timeout} s")
