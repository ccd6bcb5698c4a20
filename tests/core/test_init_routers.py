"""initiate_routers: the API at /api first, then health, metrics, JWKS and `GET /`, the docs
routes last, a static-path index in front; and what `GET /` answers."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.core.http.docs import ASSETS_URL, add_offline_docs
from app.core.init_routers import initiate_routers
from app.core.route_table import StaticPathIndex

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
DOCS_PATHS = {"/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect", ASSETS_URL}


def _routed_app(*, docs: bool = True, index_static_paths: bool = False) -> FastAPI:
    """An app as `create_app` makes it (offline docs first), with a small API and health."""
    app = FastAPI(openapi_url="/openapi.json" if docs else None, docs_url=None, redoc_url=None)
    add_offline_docs(app)
    auth = APIRouter()

    @auth.post("/login")
    async def login() -> dict[str, str]:
        return {"route": "login"}

    api = APIRouter()
    api.include_router(auth, prefix="/auth")

    @api.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"thing_id": thing_id}

    health = APIRouter()

    @health.get("/health")
    async def health_check() -> dict[str, str]:
        return {"status": "ok"}

    initiate_routers(
        app, health_router=health, api_router=api, index_static_paths=index_static_paths
    )
    return app


def _paths(app: FastAPI) -> list[str]:
    return [route.path for route in app.router.routes if hasattr(route, "path")]


def test_the_api_comes_first_under_api_then_the_core_routes_then_the_docs() -> None:
    paths = _paths(_routed_app())
    assert paths[:2] == ["/api/auth/login", "/api/things/{thing_id}"]
    core = paths[2 : len(paths) - len(DOCS_PATHS)]
    assert core[0] == "/health"
    assert core.index("/metrics") < core.index("/.well-known/jwks.json") < core.index("/")
    assert set(paths[len(paths) - len(DOCS_PATHS) :]) == DOCS_PATHS


def test_with_the_docs_turned_off_no_docs_route_is_mounted() -> None:
    paths = _paths(_routed_app(docs=False))
    assert not DOCS_PATHS & set(paths)
    assert paths[:3] == ["/api/auth/login", "/api/things/{thing_id}", "/health"]
    assert paths[-1] == "/"


def test_every_route_lands_in_the_apps_own_table() -> None:
    """Flat: no included router (a route without a path) to descend into on the way."""
    routes = _routed_app().router.routes
    assert [type(route).__name__ for route in routes if not hasattr(route, "path")] == []


@pytest.mark.parametrize("indexed", [True, False])
async def test_a_static_path_index_goes_in_front_unless_turned_off(indexed: bool) -> None:
    app = _routed_app(index_static_paths=indexed)
    indexes = [route for route in app.router.routes if isinstance(route, StaticPathIndex)]
    assert indexes == ([app.router.routes[0]] if indexed else [])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/health")).json() == {"status": "ok"}
        assert (await client.get("/api/things/3")).json() == {"thing_id": 3}
        assert (await client.post("/api/auth/login")).json() == {"route": "login"}
        assert (await client.get("/things/3")).status_code == 404  # only under /api


async def test_the_root_names_the_service_its_status_environment_and_version(
    make_client: ClientFactory,
) -> None:
    async with make_client(PROJECT_NAME="Probe Service", PROJECT_VERSION="9.8.7") as client:
        response = await client.get("/")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {
        "name": "Probe Service",
        "status": "ok",
        "environment": "test",
        "version": "9.8.7",
    }
    assert body["meta"]["success"] is True
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
