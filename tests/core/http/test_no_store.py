"""NoStoreRoute answers every path it should and only those, however it is mounted.

Its `matches` turns other paths away early; these requests check that the early answer
never differs from FastAPI's own matching: static and parameter templates, an included
router with a prefix, a `root_path`, a method the route does not serve.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Response

from app.core.http.no_store import NoStoreRoute


def _router() -> APIRouter:
    router = APIRouter(route_class=NoStoreRoute)

    @router.get("/items")
    async def items() -> dict[str, str]:
        return {"route": "items"}

    @router.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"item_id": item_id}

    return router


def _client(app: FastAPI, *, root_path: str = "") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, root_path=root_path)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


@pytest.mark.parametrize("nested", [False, True])
async def test_prefixed_routes_answer_with_no_store(nested: bool) -> None:
    app = FastAPI()
    if nested:
        outer = APIRouter(prefix="/v1")
        outer.include_router(_router(), prefix="/shop")
        app.include_router(outer)
    else:
        app.include_router(_router(), prefix="/v1/shop")
    async with _client(app) as client:
        listed = await client.get("/v1/shop/items")
        one = await client.get("/v1/shop/items/7")
        invalid = await client.get("/v1/shop/items/seven")
        wrong_method = await client.post("/v1/shop/items")
        elsewhere = await client.get("/items")
    assert (listed.status_code, listed.json()) == (200, {"route": "items"})
    assert listed.headers["cache-control"] == "no-store"
    assert (one.status_code, one.json()) == (200, {"item_id": 7})
    assert invalid.status_code == 422  # it reached the route, whose validation refuses it
    assert wrong_method.status_code == 405
    assert elsewhere.status_code == 404


async def test_routes_answer_under_a_root_path() -> None:
    app = FastAPI()
    app.include_router(_router())
    async with _client(app, root_path="/service") as client:
        listed = await client.get("/service/items")
        one = await client.get("/service/items/3")
    assert (listed.status_code, listed.json()) == (200, {"route": "items"})
    assert (one.status_code, one.json()) == (200, {"item_id": 3})


async def test_no_store_replaces_the_endpoints_own_cache_control_and_covers_errors() -> None:
    router = APIRouter(route_class=NoStoreRoute)

    @router.get("/cached")
    async def cached() -> Response:
        return Response(b"x", headers={"Cache-Control": "public, max-age=60", "X-Other": "kept"})

    @router.get("/refused")
    async def refused() -> None:
        raise HTTPException(401, "no")

    app = FastAPI()
    app.include_router(router)
    async with _client(app) as client:
        ok = await client.get("/cached")
        error = await client.get("/refused")
    assert ok.headers.get_list("cache-control") == ["no-store"]
    assert ok.headers["x-other"] == "kept"
    assert error.status_code == 401
    assert error.headers.get_list("cache-control") == ["no-store"]
