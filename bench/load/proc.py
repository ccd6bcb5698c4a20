"""A server process's CPU time (utime + stime of all its threads) and memory, from /proc.

Requests/s depends on how much of the core the server got while the machine is shared;
CPU time per request does not, so both are reported.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

# After a load run the server may still be finishing work for it (the log thread draining
# its queue): wait until its CPU time stops moving, but no longer than this.
IDLE_POLL_SECONDS = 0.05
IDLE_TIMEOUT_SECONDS = 2.0


def _clock_ticks() -> int | None:
    try:
        ticks = os.sysconf("SC_CLK_TCK")
    except (AttributeError, ValueError, OSError):
        return None
    return ticks if ticks > 0 else None


def process_cpu_seconds(pid: int) -> float | None:
    """utime + stime of process `pid` (all its threads), in seconds; None without /proc."""
    ticks = _clock_ticks()
    if ticks is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        # Field 2 (comm) is in parentheses and may hold spaces; fields 14, 15 are
        # utime, stime, i.e. items 11, 12 after the closing parenthesis (field 3 on).
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, ValueError, IndexError):
        return None


def idle_cpu_seconds(pid: int) -> float | None:
    """The process's CPU seconds once they stop increasing (bounded wait)."""
    last = process_cpu_seconds(pid)
    deadline = time.monotonic() + IDLE_TIMEOUT_SECONDS
    while last is not None and time.monotonic() < deadline:
        time.sleep(IDLE_POLL_SECONDS)
        current = process_cpu_seconds(pid)
        if current is None or current == last:
            return current
        last = current
    return last


def cpu_us_per_request(before: float | None, after: float | None, requests: int) -> float | None:
    """µs of server CPU per request served between the two readings."""
    if before is None or after is None or requests <= 0:
        return None
    return round((after - before) * 1e6 / requests, 1)


def rss_mib(pid: int) -> float:
    """The process's resident set size in MiB (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
