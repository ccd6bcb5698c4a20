"""Password hashing: Argon2id cost, and whether the event loop stays free while logins hash.

One server (our full stack) gets two extra routes that verify a password the way a login
does: `offload` through PasswordSecurity's thread pool, `inline` by calling the blocking
verify on the event loop, the naive way. A stream of concurrent logins runs against one
of them while wrk measures the trivial endpoint beside it; then the other, interleaved.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request

from app.core.security import PasswordSecurity
from bench.apps import PATH
from bench.load import LoadResult, run_load, start_load
from bench.servers import core_split, serving
from bench.settings import bench_env, bench_settings

PASSWORD = "correct horse battery staple"  # noqa: S105  (a benchmark fixture)
HASH_PATH = "/bench/login"
MODES = ("offload", "inline")
ROUNDS = 2
SECONDS = 5.0
LOGIN_CONNECTIONS = 8
TRIVIAL_CONNECTIONS = 16


def add_hash_routes(app: FastAPI) -> FastAPI:
    """GET /bench/login/offload and /bench/login/inline: one password verify each."""
    hashed = app.state.password_security.generate_password_hash(PASSWORD)

    async def offload(request: Request) -> dict[str, bool]:
        security: PasswordSecurity = request.app.state.password_security
        return {"ok": await security.verify_password_async(PASSWORD, hashed)}

    async def inline(request: Request) -> dict[str, bool]:
        security: PasswordSecurity = request.app.state.password_security
        return {"ok": security.verify_password(PASSWORD, hashed)}

    app.add_api_route(f"{HASH_PATH}/offload", offload, include_in_schema=False)
    app.add_api_route(f"{HASH_PATH}/inline", inline, include_in_schema=False)
    return app


def hash_times_ms(log_dir: Path, samples: int = 15) -> dict[str, Any]:
    """Median ms of one hash and one verify with the configured (OWASP minimum) parameters."""
    settings = bench_settings(log_dir)
    security = PasswordSecurity.from_settings(settings)
    hashes, verifies = [], []
    hashed = security.generate_password_hash(PASSWORD)
    for _ in range(samples):
        started = time.perf_counter()
        security.generate_password_hash(PASSWORD)
        hashes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assert security.verify_password(PASSWORD, hashed)
        verifies.append((time.perf_counter() - started) * 1000)
    return {
        "hash_ms": round(statistics.median(hashes), 1),
        "verify_ms": round(statistics.median(verifies), 1),
        "parameters": {
            "time_cost": settings.ARGON2_TIME_COST,
            "memory_cost_kib": settings.ARGON2_MEMORY_COST_KIB,
            "parallelism": settings.ARGON2_PARALLELISM,
            "concurrency": settings.PASSWORD_HASH_CONCURRENCY,
        },
    }


def _under_logins(url: str, mode: str, load_cores: set[int]) -> tuple[LoadResult, LoadResult]:
    logins = start_load(
        f"{url}{HASH_PATH}/{mode}",
        seconds=SECONDS + 1,
        connections=LOGIN_CONNECTIONS,
        cores=load_cores,
    )
    time.sleep(0.5)  # the login stream is under way before the measurement starts
    trivial = run_load(
        url + PATH, seconds=SECONDS, connections=TRIVIAL_CONNECTIONS, cores=load_cores
    )
    return trivial, logins.result()


def isolation(workdir: Path) -> dict[str, Any]:
    """The trivial endpoint's req/s and p99 while logins hash, offloaded vs inline."""
    server_cores, load_cores = core_split()
    workdir.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[tuple[LoadResult, LoadResult]]] = {mode: [] for mode in MODES}
    with serving(
        [sys.executable, "-m", "bench.serve", "hashing"],
        ready_path=PATH,
        env=bench_env(workdir / "logs"),
        cores=server_cores,
        stderr_to=workdir / "server.log",
    ) as server:
        alone = run_load(
            server.url + PATH, seconds=SECONDS, connections=TRIVIAL_CONNECTIONS, cores=load_cores
        )
        for _ in range(ROUNDS):
            for mode in MODES:
                runs[mode].append(_under_logins(server.url, mode, load_cores))
    summary: dict[str, Any] = {
        "login_connections": LOGIN_CONNECTIONS,
        "trivial_connections": TRIVIAL_CONNECTIONS,
        "rounds": ROUNDS,
        "alone": {"rps": round(alone.rps, 1), "p99_ms": round(alone.p99_us / 1000, 2)},
    }
    for mode in MODES:
        trivial = [run[0] for run in runs[mode]]
        logins = [run[1] for run in runs[mode]]
        summary[mode] = {
            "rps": round(statistics.median(r.rps for r in trivial), 1),
            "p50_ms": round(statistics.median(r.p50_us for r in trivial) / 1000, 2),
            "p99_ms": round(statistics.median(r.p99_us for r in trivial) / 1000, 2),
            "logins_per_s": round(statistics.median(r.rps for r in logins), 1),
            "failures": sum(r.failures for r in trivial + logins),
        }
    summary["rps_ratio_offload_to_inline"] = round(
        summary["offload"]["rps"] / max(summary["inline"]["rps"], 0.1), 1
    )
    return summary
