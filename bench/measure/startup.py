"""Time to ready and memory of one worker: ours beside bare FastAPI, same uvicorn options.

Both are started as `serve.worker(...)` (bench/apps/serve.py: one uvicorn worker, the
options `python -m app` uses): ours is `app.main:create_app` as each worker of `python -m
app` builds it, on the benchmark's database already prepared; bare is bench/apps/bare.py's
app on the same database. Time to ready runs from the process's spawn until GET /health first answers
200 (imports, app, lifespan: the log listener, hashing threads, database, session cache),
polled every 10 ms. RSS is the worker's resident memory (VmRSS) at that moment, after
that first request. Both write and read bytecode in one cache, as a deployment has it;
starts alternate between the two, the first of each (a warm-up: bytecode, page cache)
is not counted, and the figures are medians.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from app.db.postgres.bootstrap import prepare_database
from bench.apps import serve
from bench.apps.settings import bench_settings, server_envs
from bench.load.cores import core_split
from bench.load.proc import rss_mib
from bench.load.servers import serving

STARTS = 5
POLL_SECONDS = 0.01
TARGETS = {"ready_s": 1.0, "rss_mib": 90.0}


def _start_once(
    kind: serve.Kind, env: dict[str, str], cores: set[int], workdir: Path
) -> tuple[float, float]:
    """(seconds from spawn to the first 200 from /health, RSS MiB then)."""
    started = time.perf_counter()
    with serving(
        serve.worker(kind),
        ready_path="/health",
        env=env,
        cores=cores,
        stderr_to=workdir / f"{kind}.stderr",
        poll_seconds=POLL_SECONDS,
    ) as server:
        ready = time.perf_counter() - started
        return ready, rss_mib(server.process.pid)


def measure(workdir: Path, starts: int = STARTS) -> dict[str, Any]:
    """Per kind: median time to ready (s) and RSS (MiB) over `starts` starts, and the runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = bench_settings(workdir / "logs")
    prepare_database(settings)  # as `python -m app` does before its workers start
    envs = server_envs(workdir)
    server_cores, _ = core_split()
    kinds: tuple[serve.Kind, ...] = ("ours", "bare")
    runs: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    for number in range(starts + 1):
        order = kinds if number % 2 == 0 else kinds[::-1]
        for kind in order:
            run = _start_once(kind, envs[kind], server_cores, workdir)
            if number > 0:
                runs[kind].append(run)
    return {
        "starts": starts,
        "targets": TARGETS,
        **{
            kind: {
                "ready_s": round(statistics.median(ready for ready, _ in measured), 3),
                "rss_mib": round(statistics.median(rss for _, rss in measured), 1),
                "runs": [[round(ready, 3), round(rss, 1)] for ready, rss in measured],
            }
            for kind, measured in runs.items()
        },
    }
