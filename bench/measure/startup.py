"""Time to ready and memory of one worker: ours beside bare FastAPI, same uvicorn options.

Both are started by `python -m bench.serve` (one uvicorn worker, the options `python -m
app` uses): ours is `app.main:create_app` as each worker of `python -m app` builds it,
on the benchmark's database already prepared; bare is bench/bare.py's app on the same
database. Time to ready runs from the process's spawn until GET /health first answers
200 (imports, app, lifespan: the log listener, hashing threads, database, session cache),
polled every 10 ms. RSS is the worker's resident memory (VmRSS) at that moment, after
that first request. Both write and read bytecode in one cache, as a deployment has it;
starts alternate between the two, the first of each (a warm-up: bytecode, page cache)
is not counted, and the figures are medians.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from app.db.postgres.bootstrap import prepare_database
from bench.servers import core_split, serving
from bench.settings import bare_env, bench_env, bench_settings

STARTS = 5
POLL_SECONDS = 0.01
SERVED_AS = {"ours": "ours", "bare": "bare"}  # bench/serve.py's names
TARGETS = {"ready_s": 1.0, "rss_mib": 90.0}


def rss_mib(pid: int) -> float:
    """The process's resident set size in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _start_once(
    kind: str, env: dict[str, str], cores: set[int], workdir: Path
) -> tuple[float, float]:
    """(seconds from spawn to the first 200 from /health, RSS MiB then)."""
    started = time.perf_counter()
    with serving(
        [sys.executable, "-m", "bench.serve", SERVED_AS[kind]],
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
    ours_env = bench_env(workdir / "logs")
    ours_env.pop("PYTHONDONTWRITEBYTECODE", None)
    ours_env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    envs = {"ours": ours_env, "bare": bare_env(ours_env, settings)}
    server_cores, _ = core_split()
    runs: dict[str, list[tuple[float, float]]] = {kind: [] for kind in envs}
    for number in range(starts + 1):
        order = list(envs) if number % 2 == 0 else list(reversed(envs))
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
