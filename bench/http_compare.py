"""Our full stack against bare FastAPI over real sockets, interleaved rounds, medians.

Both servers run at once, each a single uvicorn worker pinned to the server core; the load
generator runs on the other core(s). Rounds alternate bare, ours, bare, ours... so drift
in the machine (thermal, neighbours) hits both sides alike.
"""

from __future__ import annotations

import statistics
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench.apps import PATH
from bench.load import LoadResult, generator_name, run_load
from bench.servers import bench_server, core_split
from bench.settings import bench_env

ROUNDS = 5
SECONDS = 5.0
WARMUP_SECONDS = 2.0
CONNECTIONS = 32
KINDS = ("bare", "ours")


def _median(results: list[LoadResult], field: str) -> float:
    values = [result.rps if field == "rps" else getattr(result, field) for result in results]
    return round(statistics.median(values), 1)


def compare(workdir: Path, *, rounds: int = ROUNDS, seconds: float = SECONDS) -> dict[str, Any]:
    """Run the interleaved rounds; the figures for the table and latest.json."""
    server_cores, load_cores = core_split()
    workdir.mkdir(parents=True, exist_ok=True)
    env = bench_env(workdir / "logs")
    runs: dict[str, list[LoadResult]] = {kind: [] for kind in KINDS}
    with ExitStack() as stack:
        urls = {
            kind: stack.enter_context(
                bench_server(kind, env=env, cores=server_cores, stderr_to=workdir / "server.log")
            ).url
            + PATH
            for kind in KINDS
        }
        for kind in KINDS:
            run_load(urls[kind], seconds=WARMUP_SECONDS, connections=CONNECTIONS, cores=load_cores)
        for _ in range(rounds):
            for kind in KINDS:
                result = run_load(
                    urls[kind], seconds=seconds, connections=CONNECTIONS, cores=load_cores
                )
                runs[kind].append(result)
    summary: dict[str, Any] = {
        "generator": generator_name(),
        "connections": CONNECTIONS,
        "seconds_per_round": seconds,
        "rounds": rounds,
        "server_cores": sorted(server_cores),
        "load_cores": sorted(load_cores),
    }
    for kind in KINDS:
        summary[kind] = {
            "rps": _median(runs[kind], "rps"),
            "p50_ms": round(_median(runs[kind], "p50_us") / 1000, 3),
            "p99_ms": round(_median(runs[kind], "p99_us") / 1000, 3),
            "failures": sum(result.failures for result in runs[kind]),
            "rounds": [result.as_dict() for result in runs[kind]],
        }
    summary["ratio"] = round(summary["ours"]["rps"] / summary["bare"]["rps"], 3)
    return summary
