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


def run_load(
    url: str,
    *,
    seconds: float,
    connections: int,
    cores: set[int],
    threads: int = 1,
) -> LoadResult:
    """Load `url` for `seconds` with `connections` keep-alive connections."""
    wrk = wrk_path()
    if wrk:
        return _run_wrk(wrk, url, seconds, connections, threads, cores)
    command = [sys.executable, "-m", "bench.pyload", url, str(seconds), str(connections)]
    return _parse(_run_pinned(command, cores, seconds))


def _run_wrk(
    wrk: str, url: str, seconds: float, connections: int, threads: int, cores: set[int]
) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_REPORT)
    try:
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
        return _parse(_run_pinned(command, cores, seconds))
    finally:
        Path(script.name).unlink(missing_ok=True)


def _run_pinned(command: list[str], cores: set[int], seconds: float) -> str:
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        preexec_fn=lambda: pin_to(cores),  # set in the child before exec
        check=True,
    )
    return completed.stdout


def _parse(output: str) -> LoadResult:
    report = json.loads(output.strip().splitlines()[-1])
    return LoadResult(
        requests=int(report["requests"]),
        seconds=report["duration_us"] / 1e6,
        failures=int(report["failures"]),
        p50_us=float(report["p50_us"]),
        p99_us=float(report["p99_us"]),
    )
