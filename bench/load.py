"""Load generation: wrk when installed, else a small asyncio keep-alive client.

Both report the same figures: requests/s, p50/p99 latency in µs and failures. The load
generator runs pinned to its own core(s), away from the server under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

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
class LoadResult:
    """One load run against one URL."""

    requests: int
    seconds: float
    failures: int
    p50_us: float
    p99_us: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "rps": round(self.rps, 1)}


def wrk_path() -> str | None:
    return shutil.which("wrk")


def generator_name() -> str:
    return "wrk" if wrk_path() else "python-asyncio"


def pin_to(cores: set[int]) -> None:
    """Pin the calling process (and its future children) to `cores` where possible."""
    available = os.sched_getaffinity(0)
    if cores & available:
        os.sched_setaffinity(0, cores & available)


class Load:
    """A load generator running in the background; `result()` waits for its report."""

    def __init__(self, command: list[str], cores: set[int], seconds: float, cleanup: Path | None):
        self._seconds = seconds
        self._cleanup = cleanup
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
        return _parse(stdout)


def start_load(
    url: str,
    *,
    seconds: float,
    connections: int,
    cores: set[int],
    threads: int = 1,
) -> Load:
    """Start loading `url` for `seconds` with `connections` keep-alive connections."""
    wrk = wrk_path()
    if not wrk:
        command = [sys.executable, "-m", "bench.pyload", url, str(seconds), str(connections)]
        return Load(command, cores, seconds, None)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        script.name,
        url,
    ]
    return Load(command, cores, seconds, Path(script.name))


def run_load(
    url: str,
    *,
    seconds: float,
    connections: int,
    cores: set[int],
    threads: int = 1,
) -> LoadResult:
    """Load `url` and wait for the figures."""
    return start_load(
        url, seconds=seconds, connections=connections, cores=cores, threads=threads
    ).result()


def _parse(output: str) -> LoadResult:
    report = json.loads(output.strip().splitlines()[-1])
    return LoadResult(
        requests=int(report["requests"]),
        seconds=report["duration_us"] / 1e6,
        failures=int(report["failures"]),
        p50_us=float(report["p50_us"]),
        p99_us=float(report["p99_us"]),
    )
