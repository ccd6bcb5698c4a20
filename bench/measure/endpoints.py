"""Our four endpoints against their plain equivalents, over real sockets.

Ours is `python -m app` (production settings, bench/apps/settings.py) on the benchmark's
own PostgreSQL database; the plain app is bench/apps/bare.py on the same database, served
by the same uvicorn options (bench/apps/serve.py). Each is one worker pinned to the first
core; the load generator runs on the other(s).

Each round starts both servers afresh (on a VM, two processes of the same code differ by
10-25% in CPU per request; with fresh servers each round, the medians are taken over
several instances of each), then, endpoint by endpoint, warms both up and loads one
after the other, in an order that alternates from endpoint to endpoint and round to
round. Per load run: requests/s, p50/p99 latency and failures from the load generator,
and the server process's CPU time (bench/load/proc.py) from just before the run until
the server is idle again after it, divided by the requests served (`LoadResult.served`).
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.apps import serve
from bench.apps.database import fresh_database
from bench.apps.settings import bench_settings, server_envs
from bench.load import seed
from bench.load.cores import core_split
from bench.load.generator import GET, LoadResult, Request, generator_name, run_load
from bench.load.proc import cpu_us_per_request, idle_cpu_seconds
from bench.load.servers import serving
from bench.report import figures

ROUNDS = 3
WARMUP_SECONDS = 1.0
KINDS = ("ours", "plain")
COMMANDS = {"ours": serve.SERVICE, "plain": serve.worker("bare")}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint under load, and what its plain equivalent does."""

    key: str
    title: str
    path: str
    plain: str
    target: float
    connections: int = 32
    seconds: float = 2.0

    def request(self, seeded: seed.Seeded, kind: str) -> Request:
        if self.key == "me":
            return Request(headers={"Authorization": f"Bearer {seeded.access_token}"})
        if self.key == "refresh":
            return Request(
                method="POST",
                headers={"Content-Type": "application/json"},
                refresh_tokens=seeded.refresh_tokens[kind],
            )
        if self.key == "login":
            return Request(
                method="POST",
                headers={"Content-Type": "application/json"},
                body=seed.login_body(seed.emails()[-1]),
            )
        return GET


ENDPOINTS = (
    Endpoint("health", "GET /health", "/health", "bare FastAPI, the same envelope", 0.70),
    Endpoint(
        "me",
        "GET /api/auth/me",
        "/api/auth/me",
        "bare FastAPI + PyJWT decode + one asyncpg query (session joined to user)",
        0.80,
    ),
    Endpoint(
        "refresh",
        "POST /api/auth/refresh",
        "/api/auth/refresh",
        "bare FastAPI + PyJWT + SHA-256 digest compare-and-set in one UPDATE",
        0.80,
        seconds=3.0,
    ),
    Endpoint(
        "login",
        "POST /api/auth/login",
        "/api/auth/login",
        "bare FastAPI + argon2-cffi verify in the thread pool + one INSERT",
        0.90,
        connections=8,
        seconds=3.0,
    ),
)


def _measured(
    url: str, pid: int, endpoint: Endpoint, request: Request, load_cores: set[int]
) -> figures.Run:
    before = idle_cpu_seconds(pid)
    result = run_load(
        url + endpoint.path,
        seconds=endpoint.seconds,
        connections=endpoint.connections,
        cores=load_cores,
        request=request,
    )
    after = idle_cpu_seconds(pid)
    return result, cpu_us_per_request(before, after, result.served)


def _round(
    number: int,
    workdir: Path,
    envs: dict[str, dict[str, str]],
    cores: tuple[set[int], set[int]],
    seeded: seed.Seeded | None,
    endpoints: tuple[Endpoint, ...] = ENDPOINTS,
) -> tuple[dict[str, dict[str, figures.Run]], seed.Seeded]:
    """Fresh servers, then every endpoint: warm-up and one measured run per app."""
    server_cores, load_cores = cores
    runs: dict[str, dict[str, figures.Run]] = {endpoint.key: {} for endpoint in endpoints}
    with ExitStack() as stack:
        servers = {
            kind: stack.enter_context(
                serving(
                    COMMANDS[kind],
                    ready_path="/health",
                    env=envs[kind],
                    cores=server_cores,
                    stderr_to=workdir / f"{kind}.log",
                )
            )
            for kind in KINDS
        }
        urls = {kind: server.url for kind, server in servers.items()}
        seeded = seeded or seed.seed(urls, sessions=max(e.connections for e in ENDPOINTS))
        for index, endpoint in enumerate(endpoints):
            order = KINDS if (number + index) % 2 == 0 else KINDS[::-1]
            for measure in (False, True):
                for kind in order:
                    request = endpoint.request(seeded, kind)
                    if measure:
                        pid = servers[kind].process.pid
                        run = _measured(urls[kind], pid, endpoint, request, load_cores)
                        runs[endpoint.key][kind] = run
                        result: LoadResult = run[0]
                    else:
                        result = run_load(
                            urls[kind] + endpoint.path,
                            seconds=WARMUP_SECONDS,
                            connections=endpoint.connections,
                            cores=load_cores,
                            request=request,
                        )
                    if result.refresh_tokens is not None:
                        seeded.refresh_tokens[kind] = result.refresh_tokens
    return runs, seeded


def selected(keys: list[str]) -> tuple[Endpoint, ...]:
    """The endpoints named by `keys` (all of them when empty), in ENDPOINTS' order."""
    unknown = set(keys) - {endpoint.key for endpoint in ENDPOINTS}
    if unknown:
        known = ", ".join(endpoint.key for endpoint in ENDPOINTS)
        raise SystemExit(f"unknown endpoint(s) {', '.join(sorted(unknown))}; known: {known}")
    return tuple(e for e in ENDPOINTS if not keys or e.key in keys)


def compare(
    workdir: Path, *, rounds: int = ROUNDS, endpoints: tuple[Endpoint, ...] = ENDPOINTS
) -> dict[str, Any]:
    """Run the rounds; per endpoint both sides' medians and the ratios (report/figures.py)."""
    workdir.mkdir(parents=True, exist_ok=True)
    settings = bench_settings(workdir / "logs")
    fresh_database(settings)
    by_app = server_envs(workdir)
    envs = {"ours": by_app["ours"], "plain": by_app["bare"]}
    server_cores, load_cores = core_split()
    collected: dict[str, dict[str, list[figures.Run]]] = {
        endpoint.key: {kind: [] for kind in KINDS} for endpoint in endpoints
    }
    seeded: seed.Seeded | None = None
    for number in range(rounds):
        runs, seeded = _round(number, workdir, envs, (server_cores, load_cores), seeded, endpoints)
        for key, by_kind in runs.items():
            for kind, run in by_kind.items():
                collected[key][kind].append(run)
    summary: dict[str, Any] = {
        "generator": generator_name(),
        "rounds": rounds,
        "database": settings.POSTGRES_DB,
        "server_cores": sorted(server_cores),
        "load_cores": sorted(load_cores),
        "endpoints": {},
    }
    for endpoint in endpoints:
        summary["endpoints"][endpoint.key] = {
            "title": endpoint.title,
            "plain": endpoint.plain,
            "target": endpoint.target,
            "connections": endpoint.connections,
            "seconds": endpoint.seconds,
            **figures.pair(collected[endpoint.key]["ours"], collected[endpoint.key]["plain"]),
        }
    return summary
