"""Our full stack against bare FastAPI over real sockets: fresh servers every round, medians.

Each round starts a new set of servers (bare, ours, ours with LOG_ACCESS=false and the
floor of bench/floor.py, all running at once, each a single uvicorn worker pinned to the server core, same
environment), warms each up briefly, loads them one after the other (the order reverses
from round to round so none always goes first), then stops them. The load generator runs
on the other core(s).

Why fresh servers per round: on a noisy VM, separate processes of the very same code differ
by about ±10% in CPU per request (memory layout, page placement, which neighbour shares
the host), while rounds within one process agree closely. With one process per kind for
the whole run the ratio would depend on which instances we happened to get; with fresh
servers every round the medians are taken over several instances of each kind.

What is measured, per load run:

- requests/s, p50 and p99 latency and failures, as reported by the load generator;
- the server process's CPU time (utime + stime of all its threads, from /proc/PID/stat)
  from just before the run until the server is idle again after it, divided by the
  requests served: CPU µs per request. The server core is saturated during the run, so
  requests/s mostly mirrors this figure, but CPU per request does not depend on how much
  of the core the server actually got. Left out (None) where /proc is not available.
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.apps import PATH
from bench.load import LoadResult, generator_name, run_load
from bench.servers import bench_server, core_split
from bench.settings import bench_env

ROUNDS = 5
SECONDS = 4.0
WARMUP_SECONDS = 1.0
CONNECTIONS = 32
# Besides bare and ours: our stack with LOG_ACCESS=false, to show what the access line
# costs, and the floor (bench/floor.py), the least code doing the stack's per-request work.
KINDS = ("bare", "ours", "ours_no_access_log", "floor")

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
    if before is None or after is None or requests <= 0:
        return None
    return round((after - before) * 1e6 / requests, 1)


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def _median_or_none(values: list[float | None]) -> float | None:
    if not values or any(value is None for value in values):
        return None
    return _median([value for value in values if value is not None])


def server_env(workdir: Path) -> dict[str, str]:
    """`bench_env`, plus a bytecode cache in `workdir` shared by all the server processes.

    With PYTHONDONTWRITEBYTECODE set every fresh server compiles all its imports again
    (twice the startup time); the cache only shortens startup, the code run is the same.
    """
    env = bench_env(workdir / "logs")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    return env


def _round(
    workdir: Path,
    env: dict[str, str],
    order: tuple[str, ...],
    seconds: float,
    cores: tuple[set[int], set[int]],
) -> dict[str, tuple[LoadResult, float | None]]:
    """One round: fresh servers, warm-up, one load run each in `order`, stop."""
    server_cores, load_cores = cores
    results: dict[str, tuple[LoadResult, float | None]] = {}
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(
                bench_server(kind, env=env, cores=server_cores, stderr_to=workdir / "server.log")
            )
            for kind in order
        }
        for kind in order:
            run_load(
                servers[kind].url + PATH,
                seconds=WARMUP_SECONDS,
                connections=CONNECTIONS,
                cores=load_cores,
            )
        for kind in order:
            pid = servers[kind].process.pid
            before = idle_cpu_seconds(pid)
            result = run_load(
                servers[kind].url + PATH, seconds=seconds, connections=CONNECTIONS, cores=load_cores
            )
            after = idle_cpu_seconds(pid)
            results[kind] = (result, cpu_us_per_request(before, after, result.requests))
    return results


def compare(workdir: Path, *, rounds: int = ROUNDS, seconds: float = SECONDS) -> dict[str, Any]:
    """Run the rounds (fresh servers each, alternating order); the figures for the table.

    Per kind: medians over the rounds of requests/s, p50/p99 latency and server CPU µs per
    request, plus every round. `ratio` is ours / bare requests/s and `cpu_ratio` is
    bare / ours CPU µs per request: both higher is better, 1.0 means no overhead.
    """
    server_cores, load_cores = core_split()
    workdir.mkdir(parents=True, exist_ok=True)
    env = server_env(workdir)
    runs: dict[str, list[tuple[LoadResult, float | None]]] = {kind: [] for kind in KINDS}
    for number in range(rounds):
        order = KINDS if number % 2 == 0 else KINDS[::-1]
        for kind, run in _round(workdir, env, order, seconds, (server_cores, load_cores)).items():
            runs[kind].append(run)
    summary: dict[str, Any] = {
        "generator": generator_name(),
        "connections": CONNECTIONS,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "fresh_servers_per_round": True,
        "server_cores": sorted(server_cores),
        "load_cores": sorted(load_cores),
    }
    for kind in KINDS:
        results = [result for result, _ in runs[kind]]
        cpu = [cpu_us for _, cpu_us in runs[kind]]
        summary[kind] = {
            "rps": _median([result.rps for result in results]),
            "p50_ms": round(_median([result.p50_us for result in results]) / 1000, 3),
            "p99_ms": round(_median([result.p99_us for result in results]) / 1000, 3),
            "cpu_us_per_request": _median_or_none(cpu),
            "failures": sum(result.failures for result in results),
            "rounds": [
                {**result.as_dict(), "cpu_us_per_request": cpu_us} for result, cpu_us in runs[kind]
            ],
        }
    summary["ratio"] = round(summary["ours"]["rps"] / summary["bare"]["rps"], 3)
    for kind in ("ours_no_access_log", "floor"):
        summary[f"ratio_{kind}"] = round(summary[kind]["rps"] / summary["bare"]["rps"], 3)
    bare_cpu, ours_cpu = (
        summary["bare"]["cpu_us_per_request"],
        summary["ours"]["cpu_us_per_request"],
    )
    summary["cpu_ratio"] = round(bare_cpu / ours_cpu, 3) if bare_cpu and ours_cpu else None
    return summary
