"""Server subprocesses: start on a free port, pinned, wait until serving, stop.

What each command runs is bench/apps/serve.py's: `serving` only starts it with PORT in
its environment and waits for a 200 from `ready_path`.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.load.cores import pin_to


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class Server:
    """A running server subprocess and the base URL it answers at."""

    process: subprocess.Popen[bytes]
    url: str


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], timeout: float = 30, poll_seconds: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before serving {url}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        time.sleep(poll_seconds)
    raise RuntimeError(f"server did not serve {url} within {timeout} s")


@contextlib.contextmanager
def serving(
    command: list[str],
    *,
    ready_path: str,
    env: dict[str, str],
    cores: set[int],
    stderr_to: Path,
    poll_seconds: float = 0.1,
) -> Iterator[Server]:
    """Run `command` (it finds its port in PORT) until the block ends."""
    port = free_port()
    with stderr_to.open("ab") as stderr:
        process = subprocess.Popen(
            command,
            env={**env, "PORT": str(port)},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            preexec_fn=lambda: pin_to(cores),  # set in the child before exec
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + ready_path, process, poll_seconds=poll_seconds)
        yield Server(process, url)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
