"""Load generation: wrk for GETs when installed, else the asyncio client (bench/load/pyload.py).

Both report the same figures: requests/s, p50/p99 latency in µs and failures. The load
generator runs pinned to its own core(s), away from the server under test.

Requests with a body (logins, refreshes) always go through the asyncio client: a
refresh must present the token the previous answer returned, and the client waits for
every request it sent before it reports. wrk stops at its deadline with one request in
flight per connection, which it does not count but the server still serves (our access
log showed 32, 7 and 32 more requests than wrk counted over three 2 s runs with 32
connections): `served` adds them, so that the server's CPU time is divided by what it
served.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.load.cores import pin_to

WRK_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "failures": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration,
    e.connect + e.read + e.write + e.timeout + e.status,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True, slots=True)
class Request:
    """What every request of a load run sends (besides the URL)."""

    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    # Refresh-token rotation: each request presents one of these, the answer's replaces it.
    refresh_tokens: list[str] | None = None


GET = Request()


@dataclass(frozen=True, slots=True)
class LoadResult:
    """One load run against one URL."""

    requests: int
    seconds: float
    failures: int
    p50_us: float
    p99_us: float
    refresh_tokens: list[str] | None = field(default=None, repr=False)
    # Sent before the generator's deadline but not counted by it (wrk: one per connection).
    uncounted: int = 0
    # How many failed with each status (the asyncio client counts them; wrk does not).
    failed_statuses: dict[str, int] = field(default_factory=dict)

    @property
    def served(self) -> int:
        """What the server answered during the run, by the best count available."""
        return self.requests + self.uncounted

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        figures = asdict(self)
        del figures["refresh_tokens"]
        return {**figures, "rps": round(self.rps, 1)}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def generator_name() -> str:
    return "wrk" if wrk_path() else "python-asyncio"


class Load:
    """A load generator running in the background; `result()` waits for its report."""

    def __init__(
        self,
        command: list[str],
        cores: set[int],
        seconds: float,
        cleanup: Path | None,
        uncounted: int = 0,
    ):
        self._seconds = seconds
        self._cleanup = cleanup
        self._uncounted = uncounted
        self._process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: pin_to(cores),  # set in the child before exec
        )

    def result(self) -> LoadResult:
        try:
            stdout, stderr = self._process.communicate(timeout=self._seconds + 60)
        finally:
            if self._cleanup is not None:
                self._cleanup.unlink(missing_ok=True)
        if self._process.returncode != 0:
            raise RuntimeError(f"load generator failed ({self._process.returncode}): {stderr}")
        return _parse(stdout, self._uncounted)


def start_load(
    url: str,
    *,
    seconds: float,
    connections: int,
    cores: set[int],
    request: Request = GET,
) -> Load:
    """Start loading `url` for `seconds` with `connections` keep-alive connections."""
    wrk = wrk_path()
    if request.method != "GET" or request.body is not None or not wrk:
        return _start_pyload(url, seconds, connections, cores, request)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    headers = [arg for name, value in request.headers.items() for arg in ("-H", f"{name}: {value}")]
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        *headers,
        "-s",
        script.name,
        url,
    ]
    return Load(command, cores, seconds, Path(script.name), uncounted=connections)


def _start_pyload(
    url: str, seconds: float, connections: int, cores: set[int], request: Request
) -> Load:
    spec: dict[str, Any] = {
        "url": url,
        "seconds": seconds,
        "connections": connections,
        "method": request.method,
        "headers": request.headers,
        "body": request.body,
        "refresh_tokens": request.refresh_tokens,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(spec, file)
    command = [sys.executable, "-m", "bench.load.pyload", file.name]
    return Load(command, cores, seconds, Path(file.name))


def run_load(
    url: str,
    *,
    seconds: float,
    connections: int,
    cores: set[int],
    request: Request = GET,
) -> LoadResult:
    """Load `url` and wait for the figures."""
    return start_load(
        url, seconds=seconds, connections=connections, cores=cores, request=request
    ).result()


def _parse(output: str, uncounted: int) -> LoadResult:
    report = json.loads(output.strip().splitlines()[-1])
    return LoadResult(
        requests=int(report["requests"]),
        seconds=report["duration_us"] / 1e6,
        failures=int(report["failures"]),
        p50_us=float(report["p50_us"]),
        p99_us=float(report["p99_us"]),
        refresh_tokens=report.get("refresh_tokens"),
        uncounted=uncounted,
        failed_statuses=report.get("failed_statuses", {}),
    )
