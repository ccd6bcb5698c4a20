"""The two apps under load: our full stack and a bare FastAPI app, one identical endpoint.

The endpoint is added to our app inside the benchmark only, after `create_app`, so its
requests pass through all six middleware, the exception handlers and the request logging.
It is put first in both routing tables (ahead of FastAPI's own docs routes too), so that
both apps try exactly one route: FastAPI tries routes one by one, and what the routes in
front of an endpoint add is measured apart (bench/in_process.py).
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

from fastapi import APIRouter, FastAPI

PATH = "/bench"
AppOrRouter = TypeVar("AppOrRouter", FastAPI, APIRouter)
BODY: dict[str, Any] = {"message": "hello", "ok": True, "items": [1, 2, 3]}


async def _endpoint() -> dict[str, Any]:
    return BODY


def add_bench_route(app: AppOrRouter, *, first: bool = False) -> AppOrRouter:
    """Serve BODY at PATH (the same code in both apps), after or before the other routes."""
    app.add_api_route(PATH, _endpoint, methods=["GET"], include_in_schema=False)
    if first:
        routes = app.router.routes if isinstance(app, FastAPI) else app.routes
        routes.insert(0, routes.pop())
    return app


def bare_app() -> FastAPI:
    """FastAPI with no middleware, no handlers, no logging: the baseline."""
    return add_bench_route(FastAPI(), first=True)


def ours_app() -> FastAPI:
    """The service as `python -m app` serves it (settings from the environment)."""
    from app.main import app

    return add_bench_route(app, first=True)


def ours_app_without_access_log() -> FastAPI:
    """The same with LOG_ACCESS=false: what the per-request access line costs (for a server
    process of its own: the setting is read when `app.main` is first imported)."""
    os.environ["LOG_ACCESS"] = "false"
    return ours_app()
