"""include_flat: the same URLs and OpenAPI as include_router, without nested matching."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Match, Mount, Route

from app.api import api_router
from app.core.config import Settings
from app.core.init_routers import root_router
from app.core.jwks import jwks_router
from app.core.metrics.metrics_router import metrics_router
from app.core.route_table import StaticPathIndex, include_flat, put_static_path_index_first
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
    first, *rest = app.routes
    assert isinstance(first, StaticPathIndex)  # a lookup in front of the table, no node
    nodes = [
        route
        for route in rest
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


def _answered_by(app: FastAPI) -> FastAPI:
    """`app` plus routes whose answers name the route that served them."""

    @app.get("/items/{name}")
    async def item(name: str) -> dict[str, str]:
        return {"route": "item", "name": name}

    @app.get("/items/mine")  # shadowed by the route above, as FastAPI orders them
    async def mine() -> dict[str, str]:
        return {"route": "mine"}

    @app.get("/status")
    async def status_get() -> dict[str, str]:
        return {"route": "status-get"}

    @app.post("/status")
    async def status_post() -> dict[str, str]:
        return {"route": "status-post"}

    @app.get("/status")  # a second GET for the same path: FastAPI takes the first
    async def status_again() -> dict[str, str]:
        return {"route": "status-again"}

    return app


async def _answers(app: FastAPI, requests: list[tuple[str, str]], root_path: str = "") -> list:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        answers = []
        for method, path in requests:
            response = await client.request(method, root_path + path)
            body = response.json() if response.status_code == 200 else None
            answers.append((response.status_code, body))
        return answers


REQUESTS = [
    ("GET", "/items/mine"),
    ("GET", "/items/x"),
    ("GET", "/status"),
    ("POST", "/status"),
    ("DELETE", "/status"),
    ("GET", "/nowhere"),
    ("GET", "/late"),
]


@pytest.mark.parametrize("root_path", ["", "/prefix"])
async def test_the_static_path_index_answers_as_fastapis_own_matching(root_path: str) -> None:
    plain, indexed = _answered_by(FastAPI()), _answered_by(FastAPI())
    put_static_path_index_first(indexed.router)
    for app in (plain, indexed):  # added after the index: matched by the table as before

        @app.get("/late")
        async def late() -> dict[str, str]:
            return {"route": "late"}

    expected = await _answers(plain, REQUESTS, root_path)
    assert await _answers(indexed, REQUESTS, root_path) == expected
    assert expected[0] == (200, {"route": "item", "name": "mine"})  # order kept
    assert expected[3] == (200, {"route": "status-post"})
    assert expected[4][0] == 405


def test_a_static_path_behind_a_route_that_could_match_it_is_not_indexed() -> None:
    app = _answered_by(FastAPI())
    index = StaticPathIndex(app.router.routes)
    scope = {"type": "http", "path": "/items/mine", "root_path": "", "method": "GET"}
    assert index.matches(scope)[0] is Match.NONE  # left to the table, which picks /items/{name}
    status = {**scope, "path": "/status"}
    match, child_scope = index.matches(status)
    assert match is Match.FULL
    assert child_scope["route"].endpoint.__name__ == "status_get"
