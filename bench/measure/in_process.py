"""Cost per request in µs with no sockets: the ASGI app called directly.

Shows what each piece of the stack adds, without uvicorn's and the kernel's share. The
endpoint is bench/apps/probe.py's trivial one, the same in every app: first in our route
table, in a router after `/api/auth` in the router mounted at `/api` (where a service
adds its routes) and behind all routes. Bare Starlette and bare FastAPI are listed for
scale. Every variant of ours is built by `ours_app` (bench/apps/ours.py), through the
app factory: the access line off by its setting, a middleware left out by the factory's
`middleware_left_out`; what each costs is the full stack minus the stack without it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager

from app.core.logger import stop_logger
from bench.apps import probe
from bench.apps.ours import middleware_classes, ours_app

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

USER_AGENT = (
    b"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    b"(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)
SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0", "spec_version": "2.4"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": probe.PATH,
    "raw_path": probe.PATH.encode(),
    "query_string": b"",
    "root_path": "",
    "headers": [
        (b"host", b"127.0.0.1:8000"),
        (b"user-agent", USER_AGENT),
        (b"accept", b"*/*"),
        (b"accept-encoding", b"gzip, deflate"),
    ],
    "client": ("127.0.0.1", 50000),
    "server": ("127.0.0.1", 8000),
}
REQUEST_MESSAGE = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> dict[str, Any]:
    return REQUEST_MESSAGE


async def _send(message: dict[str, Any]) -> None:
    return None


async def _drain_log_queue() -> None:
    """Wait until the listener thread has written every queued line (it restarts lazily)."""
    stop_logger()


async def per_request_us(
    app: ASGIApp, state: dict[str, Any], *, requests: int, repeats: int, path: str = probe.PATH
) -> float:
    """The best of `repeats` batches' mean CPU µs per request.

    CPU time of the whole process: it includes what the log listener thread spends on
    each request's line, and leaves out time other processes took the core away. Noise
    on a shared machine only ever adds time, hence the best batch rather than the median.
    """
    scope = {**SCOPE, "path": path, "raw_path": path.encode()}
    batches = []
    for _ in range(repeats):
        started = time.process_time()
        for _ in range(requests):
            await app({**scope, "state": dict(state)}, _receive, _send)
        await _drain_log_queue()
        batches.append((time.process_time() - started) / requests * 1e6)
    return min(batches)


def _apps(log_dir: Path) -> list[tuple[str, Any, str]]:
    """(name, app, path) of every app measured; ours' variants named after what they lack."""
    ours = probe.first_in(ours_app(log_dir))
    layers = middleware_classes(ours)
    return [
        ("starlette", probe.starlette_app(), probe.PATH),
        ("bare", probe.bare_fastapi_app(), probe.PATH),
        ("ours", ours, probe.PATH),
        ("ours_in_api_router", ours_app(log_dir, api=probe.api_with_probe()), probe.API_PATH),
        ("ours_behind_core_routes", probe.last_in(ours_app(log_dir)), probe.PATH),
        # See component_us.
        (
            "ours_without_access_log",
            probe.first_in(ours_app(log_dir, LOG_ACCESS=False)),
            probe.PATH,
        ),
        *(
            (
                f"ours_without_{layer.__name__}",
                probe.first_in(ours_app(log_dir, middleware_left_out={layer})),
                probe.PATH,
            )
            for layer in layers
        ),
    ]


async def _measure(log_dir: Path, requests: int, repeats: int) -> dict[str, Any]:
    apps = _apps(log_dir)
    batches: dict[str, list[float]] = {name: [] for name, _, _ in apps}
    async with AsyncExitStack() as stack:
        states = [
            dict((await stack.enter_async_context(LifespanManager(app)))._state)
            for _, app, _ in apps
        ]
        for (_, app, path), state in zip(apps, states, strict=True):
            await per_request_us(app, state, requests=200, repeats=1, path=path)
        # Batches interleaved across the apps: drift in the machine hits them all alike.
        for _ in range(repeats):
            for (name, app, path), state in zip(apps, states, strict=True):
                batches[name].append(
                    await per_request_us(app, state, requests=requests, repeats=1, path=path)
                )
    best = {name: round(min(values), 1) for name, values in batches.items()}
    figures: dict[str, Any] = {name: best[name] for name in ("starlette", "bare", "ours")}
    figures["added_us"] = round(best["ours"] - best["bare"], 1)
    figures["api_router_us"] = round(best["ours_in_api_router"] - best["ours"], 1)
    figures["core_routes_us"] = round(best["ours_behind_core_routes"] - best["ours"], 1)
    # What each piece costs: the full stack minus the stack without it.
    figures["component_us"] = {
        name.removeprefix("ours_without_"): round(best["ours"] - best[name], 1)
        for name in best
        if name.startswith("ours_without_")
    }
    return figures


def measure(log_dir: Path, *, requests: int = 2000, repeats: int = 5) -> dict[str, Any]:
    """CPU µs per request: bare Starlette, bare FastAPI, our stack (endpoint first, and
    behind the core's own routes), and what each middleware and the access line add."""
    try:
        from uvloop import run
    except ImportError:
        from asyncio import run
    return run(_measure(log_dir, requests, repeats))
