"""include_flat: the same URLs and OpenAPI as include_router, without nested matching."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Mount, Route

from app.api import api_router
from app.core.config import Settings
from app.core.init_routers import root_router
from app.core.jwks import jwks_router
from app.core.metrics.metrics_router import metrics_router
from app.core.route_table import include_flat
from app.health.router import health_router
from app.main import create_app

ROUTERS = (
    ("/api", api_router),
    ("", health_router),
    ("", metrics_router),
    ("", jwks_router),
    ("", root_router),
)


def test_flat_routes_publish_the_openapi_of_included_routers() -> None:
    nested, flat = FastAPI(title="t"), FastAPI(title="t")
    for prefix, router in ROUTERS:
        nested.include_router(router, prefix=prefix)
        include_flat(flat.router, router, prefix=prefix)
    assert flat.openapi() == nested.openapi()


def test_the_service_route_table_holds_only_routes(settings: Settings) -> None:
    """No included-router node: each request is matched against one flat list.

    (The docs' static assets are a Mount of the app's own.)"""
    app = create_app(settings)
    nodes = [
        route
        for route in app.routes
        if not isinstance(route, APIRoute | APIWebSocketRoute | Route | Mount)
    ]
    assert nodes == []
    paths = {getattr(route, "path", None) for route in app.routes}
    assert {"/api/auth/me", "/api/auth/ws", "/health", "/metrics", "/"} <= paths


def test_flat_routes_keep_the_route_class_and_router_dependencies() -> None:
    """NoStoreRoute's header and the metrics router's token check come along."""
    app = FastAPI()
    include_flat(app.router, api_router, prefix="/api")
    include_flat(app.router, metrics_router)
    by_path = {getattr(route, "path", ""): route for route in app.routes}
    assert type(by_path["/api/auth/me"]).__name__ == "NoStoreRoute"
    metrics = by_path["/metrics"]
    assert isinstance(metrics, APIRoute)
    assert [d.dependency.__name__ for d in metrics.dependencies] == ["require_metrics_token"]


def test_a_route_it_cannot_rebuild_is_refused() -> None:
    async def plain(request: object) -> None: ...

    router = APIRouter()
    router.routes.append(Route("/plain", plain))
    with pytest.raises(TypeError, match="/plain"):
        include_flat(FastAPI().router, router)


async def test_the_flat_service_answers_its_public_urls(client: httpx.AsyncClient) -> None:
    me = await client.get("/api/auth/me")
    assert me.status_code == 401
    assert me.headers["cache-control"] == "no-store"
    assert (await client.get("/health")).status_code == 200
    assert (await client.get("/api/nothing")).status_code == 404
