"""The route template of a request: from the route that served it, or by matching the path
when the request was answered before routing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request

from app.core.http.route import route_template, template_by_matching


def _app() -> FastAPI:
    """`/health`, and `/v1/shop/items/{item_id}` behind two included routers; each route
    answers with the template `route_template` finds for it."""
    app = FastAPI()

    @app.get("/health")
    async def health(request: Request) -> dict[str, Any]:
        return {"template": route_template(request.scope)}

    items = APIRouter()

    @items.get("/items/{item_id}")
    async def item(item_id: int, request: Request) -> dict[str, Any]:
        return {"template": route_template(request.scope)}

    shop = APIRouter(prefix="/v1")
    shop.include_router(items, prefix="/shop")
    app.include_router(shop)
    return app


def _scope(app: FastAPI, path: str, root_path: str = "") -> dict[str, Any]:
    """The scope of a request no route has handled yet (refused by a middleware)."""
    return {"type": "http", "method": "POST", "app": app, "path": path, "root_path": root_path}


@pytest.mark.parametrize(
    ("path", "template"),
    [("/health", "/health"), ("/v1/shop/items/7", "/v1/shop/items/{item_id}")],
)
async def test_a_routed_request_has_its_full_template_prefixes_included(
    path: str, template: str
) -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(path)
    assert response.json() == {"template": template}


def test_a_request_no_route_served_has_no_template() -> None:
    assert route_template({"type": "http", "path": "/v1/shop/items/7"}) is None


@pytest.mark.parametrize(
    ("path", "root_path", "template"),
    [
        ("/v1/shop/items/7", "", "/v1/shop/items/{item_id}"),
        ("/health", "", "/health"),
        ("/service/v1/shop/items/7", "/service", "/v1/shop/items/{item_id}"),
        ("/v1/shop/items", "", None),
        ("/nowhere", "", None),
    ],
)
def test_matching_finds_the_template_of_a_request_refused_before_routing(
    path: str, root_path: str, template: str | None
) -> None:
    """Any method: a POST refused before routing still counts against the GET route's path."""
    assert template_by_matching(_scope(_app(), path, root_path)) == template


def test_matching_without_an_app_finds_nothing() -> None:
    assert template_by_matching({"type": "http", "path": "/health"}) is None


def test_the_first_matching_route_gives_the_template() -> None:
    app = FastAPI()

    @app.get("/users/me")
    async def me() -> None: ...

    @app.get("/users/{user_id}")
    async def user(user_id: str) -> None: ...

    assert template_by_matching(_scope(app, "/users/me")) == "/users/me"
    assert template_by_matching(_scope(app, "/users/42")) == "/users/{user_id}"
