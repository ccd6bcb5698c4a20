"""Password hashing: Argon2id cost, and whether the event loop stays free while logins hash.

Our service (`python -m app`, bench/apps/serve.py's `SERVICE`, the benchmark's settings)
serves `GET /health` alone, then while a stream of concurrent real logins (`POST
/api/auth/login`, each an Argon2id verify in the hashing thread pool) runs beside it. If hashing blocked the event loop,
`/health` would wait for it: its p99 would be a hash time or more.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from app.core.security import PasswordSecurity
from bench.apps import serve
from bench.apps.settings import bench_env, bench_settings
from bench.load import seed
from bench.load.cores import core_split
from bench.load.generator import LoadResult, Request, run_load, start_load
from bench.load.servers import serving

ROUNDS = 2
SECONDS = 2.0
LOGIN_CONNECTIONS = 8
HEALTH_CONNECTIONS = 16


def hash_times_ms(log_dir: Path, samples: int = 15) -> dict[str, Any]:
    """Median ms of one hash and one verify with the configured (OWASP minimum) parameters."""
    settings = bench_settings(log_dir)
    security = PasswordSecurity.from_settings(settings)
    hashes, verifies = [], []
    hashed = security.generate_password_hash(seed.PASSWORD)
    for _ in range(samples):
        started = time.perf_counter()
        security.generate_password_hash(seed.PASSWORD)
        hashes.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        assert security.verify_password(seed.PASSWORD, hashed)
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


def _health_under_logins(url: str, load_cores: set[int]) -> tuple[LoadResult, LoadResult]:
    logins = start_load(
        f"{url}/api/auth/login",
        seconds=SECONDS + 1,
        connections=LOGIN_CONNECTIONS,
        cores=load_cores,
        request=Request(
            method="POST",
            headers={"Content-Type": "application/json"},
            body=seed.login_body(seed.emails()[0]),
        ),
    )
    time.sleep(0.5)  # the login stream is under way before the measurement starts
    health = run_load(
        f"{url}/health", seconds=SECONDS, connections=HEALTH_CONNECTIONS, cores=load_cores
    )
    return health, logins.result()


def isolation(workdir: Path) -> dict[str, Any]:
    """`/health` req/s and latency alone and while logins hash."""
    server_cores, load_cores = core_split()
    workdir.mkdir(parents=True, exist_ok=True)
    alone: list[LoadResult] = []
    under: list[tuple[LoadResult, LoadResult]] = []
    with serving(
        serve.SERVICE,
        ready_path="/health",
        env=bench_env(workdir / "logs"),
        cores=server_cores,
        stderr_to=workdir / "ours.log",
    ) as server:
        with httpx.Client(timeout=30.0) as client:  # the account, if this run has none yet
            client.post(
                f"{server.url}/api/auth/register",
                json={"email": seed.emails()[0], "password": seed.PASSWORD},
            )
        for _ in range(ROUNDS):
            alone.append(
                run_load(
                    f"{server.url}/health",
                    seconds=SECONDS,
                    connections=HEALTH_CONNECTIONS,
                    cores=load_cores,
                )
            )
            under.append(_health_under_logins(server.url, load_cores))
    health = [run[0] for run in under]
    logins = [run[1] for run in under]
    return {
        "login_connections": LOGIN_CONNECTIONS,
        "health_connections": HEALTH_CONNECTIONS,
        "rounds": ROUNDS,
        "alone": {
            "rps": round(statistics.median(r.rps for r in alone), 1),
            "p99_ms": round(statistics.median(r.p99_us for r in alone) / 1000, 2),
        },
        "under_logins": {
            "rps": round(statistics.median(r.rps for r in health), 1),
            "p50_ms": round(statistics.median(r.p50_us for r in health) / 1000, 2),
            "p99_ms": round(statistics.median(r.p99_us for r in health) / 1000, 2),
            "logins_per_s": round(statistics.median(r.rps for r in logins), 1),
            "failures": sum(r.failures for r in health + logins),
        },
    }


def measure(workdir: Path) -> dict[str, Any]:
    """Hash and verify times, and `/health` alone and while logins hash."""
    return {"times": hash_times_ms(workdir / "logs"), "isolation": isolation(workdir)}
