"""The two apps under load: our full stack and a bare FastAPI app, one identical endpoint.

The endpoint is added to our app inside the benchmark only, after `create_app`, so its
requests pass through all six middleware, the exception handlers and the request logging.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

PATH = "/bench"
BODY: dict[str, Any] = {"message": "hello", "ok": True, "items": [1, 2, 3]}


async def _endpoint() -> dict[str, Any]:
    return BODY


def add_bench_route(app: FastAPI) -> FastAPI:
    """Serve BODY at PATH (the same code in both apps)."""
    app.add_api_route(PATH, _endpoint, methods=["GET"], include_in_schema=False)
    return app


def bare_app() -> FastAPI:
    """FastAPI with no middleware, no handlers, no logging: the baseline."""
    return add_bench_route(FastAPI())


def ours_app() -> FastAPI:
    """The service as `python -m app` serves it (settings from the environment)."""
    from app.main import app

    return add_bench_route(app)
