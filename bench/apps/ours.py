"""Ours, built one way for every measurement: `app.main:create_app` with the bench's settings.

Served, uvicorn builds it in the worker from the environment (bench/apps/serve.py). In
this process (the in-process rows, /metrics rendering) `ours_app` builds it, and a
variant (another router at `/api`, a middleware fewer, other settings) goes through the
factory's own parameters and the settings: nothing global is changed, nothing is taken
out of an app after it is built.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI

from app.api import api_router
from app.main import create_app
from bench.apps.settings import bench_settings


def ours_app(
    log_dir: Path,
    *,
    api: APIRouter = api_router,
    middleware_left_out: Collection[type] = (),
    **settings: Any,
) -> FastAPI:
    """The service with the benchmark's settings (and `settings` overrides), logs in `log_dir`."""
    return create_app(
        bench_settings(log_dir, **settings), api=api, middleware_left_out=middleware_left_out
    )


def middleware_classes(app: FastAPI) -> list[Any]:
    """The middleware classes of `app`'s stack, outermost first."""
    return [middleware.cls for middleware in app.user_middleware]
