"""The `/api` router (app/api.py): the domain routers it lists, under their prefixes.

That the app mounts it at `/api`, ahead of the docs routes, is tested in test_main.py.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute, APIWebSocketRoute

from app.api import api_router
from app.auth.router import auth_router
from app.core.route_table import include_flat


def routes_of(router: APIRouter, prefix: str = "") -> list[tuple[str, str, frozenset[str]]]:
    """The router's routes, included routers flattened, as (path, endpoint, methods)."""
    flat = APIRouter()
    include_flat(flat, router, prefix=prefix)
    described = []
    for route in flat.routes:
        assert isinstance(route, APIRoute | APIWebSocketRoute), route
        methods = frozenset(route.methods) if isinstance(route, APIRoute) else frozenset()
        described.append((route.path, route.endpoint.__name__, methods))
    return described


def test_the_api_router_serves_the_auth_router_under_auth_and_nothing_else() -> None:
    expected = routes_of(auth_router, prefix="/auth")
    assert expected  # the auth router has routes to include
    assert routes_of(api_router) == expected


def test_the_auth_endpoints_named_in_the_design_are_there() -> None:
    paths = {path for path, _, _ in routes_of(api_router)}
    assert {
        "/auth/register",
        "/auth/login",
        "/auth/refresh",
        "/auth/logout",
        "/auth/me",
        "/auth/sessions",
        "/auth/ws",
    } <= paths
