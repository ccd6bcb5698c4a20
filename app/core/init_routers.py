"""Router registration and the root endpoint."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from app.core.dependencies import ResponseFactoryDep, SettingsDep
from app.core.http.docs import ASSETS_URL, docs_page_paths
from app.core.jwks import jwks_router
from app.core.metrics.metrics_router import metrics_router
from app.core.response import SuccessEnvelope
from app.core.route_table import include_flat, put_static_path_index_first

root_router = APIRouter(tags=["root"])


class ServiceInfo(BaseModel):
    name: str
    status: str
    environment: str
    version: str


@root_router.get(
    "/",
    summary="Service name, status and environment",
    response_model=SuccessEnvelope[ServiceInfo],
)
async def root(settings: SettingsDep, responses: ResponseFactoryDep) -> object:
    return responses.success(
        {
            "name": settings.PROJECT_NAME,
            "status": "ok",
            "environment": settings.ENVIRONMENT,
            "version": settings.PROJECT_VERSION,
        }
    )


def initiate_routers(
    app: FastAPI,
    *,
    health_router: APIRouter,
    api_router: APIRouter,
    index_static_paths: bool = True,
) -> None:
    """Mount the API at `/api`, then health and metrics, and serve `GET /`.

    `core` never imports the domains, so `main.py` hands their routers in. Every route
    lands in the app's own table (`include_flat`), not behind nested routers. The API
    goes first and FastAPI's docs routes last: FastAPI tries routes in order, most
    traffic is API traffic, and no core path starts with `/api`. In front of them all, a
    `StaticPathIndex` finds a route without parameters by its path; it is left out when
    FastAPI's tracing is on (OTEL_ENABLED), which names a request's span after the route
    its own loop selected.
    """
    include_flat(app.router, api_router, prefix="/api")
    for router in (health_router, metrics_router, jwks_router, root_router):
        include_flat(app.router, router)
    _docs_routes_last(app)
    if index_static_paths:
        put_static_path_index_first(app.router)


def _docs_routes_last(app: FastAPI) -> None:
    """Move the docs routes (OpenAPI JSON, Swagger UI, ReDoc, their assets), which are
    registered first of all, behind ours: every API request would otherwise try them first."""
    docs_paths = {app.openapi_url, *docs_page_paths(app), ASSETS_URL} - {None}
    routes = app.router.routes
    docs = [route for route in routes if getattr(route, "path", None) in docs_paths]
    ours = [route for route in routes if getattr(route, "path", None) not in docs_paths]
    routes[:] = ours + docs
