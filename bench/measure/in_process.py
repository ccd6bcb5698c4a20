"""Cost per request in µs with no sockets: the ASGI app called directly.

Shows what each piece of the stack adds, without uvicorn's and the kernel's share. The
endpoint is a trivial one, the same in every app, added to app instances built here
(the served app never gets it): first in the route table, in a router included in
`app/api.py`'s (where a service adds its routes) and behind all routes. Bare Starlette and bare
FastAPI are listed for scale.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager
from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.core.logger import stop_logger
from bench.settings import bench_settings

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

PATH = "/bench"
BODY: dict[str, Any] = {"message": "hello", "ok": True, "items": [1, 2, 3]}

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
    "path": PATH,
    "raw_path": PATH.encode(),
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
    app: ASGIApp, state: dict[str, Any], *, requests: int, repeats: int, path: str = PATH
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


def _starlette_app() -> Starlette:
    async def endpoint(request: Any) -> JSONResponse:
        return JSONResponse(BODY)

    return Starlette(routes=[Route(PATH, endpoint)])


async def _endpoint() -> dict[str, Any]:
    return BODY


def _with_endpoint(app: FastAPI, *, first: bool = True) -> FastAPI:
    """`app` with the trivial endpoint first in its route table, or last (FastAPI tries
    routes in order)."""
    app.add_api_route(PATH, _endpoint, methods=["GET"], include_in_schema=False)
    if first:
        app.router.routes.insert(0, app.router.routes.pop())
    return app


SERVICE_PREFIX = "/service"


@contextmanager
def _endpoint_in_api_router() -> Iterator[str]:
    """For the block, `app/api.py`'s `api_router` includes a router with the endpoint,
    after `/api/auth`, where a service adds its routes; its path. The app includes
    `api_router` by reference, so the router stays while the apps built here serve, and
    leaves afterwards (this process's later sections build the app as it is)."""
    from app.api import api_router

    service_router = APIRouter()
    service_router.add_api_route(PATH, _endpoint, methods=["GET"], include_in_schema=False)
    api_router.include_router(service_router, prefix=SERVICE_PREFIX)
    included = api_router.routes[-1]
    try:
        yield f"/api{SERVICE_PREFIX}{PATH}"
    finally:
        api_router.routes.remove(included)


def _without(app: Any, component: str) -> Any:
    """`app` with one of the core's middleware classes left out of its stack."""
    app.user_middleware = [
        entry for entry in app.user_middleware if entry.cls.__name__ != component
    ]
    if component == "RequestIDMiddleware":  # the metrics then record the status themselves
        for entry in app.user_middleware:
            if entry.cls.__name__ == "MetricsMiddleware":
                entry.kwargs["status_recorded_inside"] = False
    return app


async def _measure(
    log_dir: Path, requests: int, repeats: int, api_router_path: str
) -> dict[str, Any]:
    from app.main import create_app

    def ours_app(**overrides: Any) -> FastAPI:
        return _with_endpoint(create_app(bench_settings(log_dir, **overrides)))

    ours = ours_app()
    components = [entry.cls.__name__ for entry in ours.user_middleware]
    apps: list[tuple[str, Any, str]] = [
        ("starlette", _starlette_app(), PATH),
        ("bare", _with_endpoint(FastAPI()), PATH),
        ("ours", ours, PATH),
        ("ours_in_api_router", create_app(bench_settings(log_dir)), api_router_path),
        (
            "ours_behind_core_routes",
            _with_endpoint(create_app(bench_settings(log_dir)), first=False),
            PATH,
        ),
        ("ours_without_access_log", ours_app(LOG_ACCESS=False), PATH),  # see component_us
        *((f"ours_without_{name}", _without(ours_app(), name), PATH) for name in components),
    ]
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
        name: round(best["ours"] - best[f"ours_without_{name}"], 1)
        for name in ["access_log", *components]
    }
    return figures


def measure(log_dir: Path, *, requests: int = 2000, repeats: int = 5) -> dict[str, Any]:
    """CPU µs per request: bare Starlette, bare FastAPI, our stack (endpoint first, and
    behind the core's own routes), and what each middleware and the access line add."""
    try:
        from uvloop import run
    except ImportError:
        from asyncio import run
    with _endpoint_in_api_router() as api_router_path:
        return run(_measure(log_dir, requests, repeats, api_router_path))
