"""The in-process rows' endpoint: trivial, the same in every app, never in a served one.

It returns a small JSON object and uses no dependency, so that what an app adds around
it shows. `starlette_app` and `bare_fastapi_app` serve it for scale; ours gets it first
in its route table (`first_in`: matched before anything else), behind every route
(`last_in`: behind FastAPI's docs routes, `/api/auth` and the core routes), or in a
router after `/api/auth` in a copy of `app/api.py`'s router (`api_with_probe`, for
`ours_app(api=...)`), where a service adds its routes.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.api import api_router

PATH = "/bench"
SERVICE_PREFIX = "/service"
API_PATH = f"/api{SERVICE_PREFIX}{PATH}"  # where `api_with_probe` puts it
BODY: dict[str, Any] = {"message": "hello", "ok": True, "items": [1, 2, 3]}


async def _endpoint() -> dict[str, Any]:
    return BODY


def starlette_app() -> Starlette:
    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(BODY)

    return Starlette(routes=[Route(PATH, endpoint)])


def bare_fastapi_app() -> FastAPI:
    return first_in(FastAPI())


def first_in(app: FastAPI) -> FastAPI:
    """`app` with the endpoint first in its route table (FastAPI tries routes in order)."""
    last_in(app)
    app.router.routes.insert(0, app.router.routes.pop())
    return app


def last_in(app: FastAPI) -> FastAPI:
    """`app` with the endpoint behind all its routes (and out of its static-path index,
    which covers the routes the factory registered)."""
    app.add_api_route(PATH, _endpoint, methods=["GET"], include_in_schema=False)
    return app


def api_with_probe() -> APIRouter:
    """`app/api.py`'s router with one more router after its own, holding the endpoint at
    `API_PATH`; the module's router itself is left as it is."""
    service = APIRouter()
    service.add_api_route(PATH, _endpoint, methods=["GET"], include_in_schema=False)
    api = APIRouter()
    api.include_router(api_router)
    api.include_router(service, prefix=SERVICE_PREFIX)
    return api
