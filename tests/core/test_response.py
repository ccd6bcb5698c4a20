"""ResponseFactory: the success envelope and RFC 9457 bodies, and their fast encoder."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from starlette.requests import Request

from app.core.response import (
    PROBLEM_MEDIA_TYPE,
    ProblemDetails,
    ResponseFactory,
    SuccessEnvelope,
    render_json,
)
from tests.core.probe_routes import Item, add_probe_routes

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


class Colour(Enum):
    RED = "red"


class Point(BaseModel):
    x: int
    when: datetime


@dataclass
class Pair:
    left: int
    right: int


def factory(path: str = "/items/7", request_id: str | None = "rid-1") -> ResponseFactory:
    scope: dict[str, Any] = {"type": "http", "path": path, "headers": [], "method": "GET"}
    if request_id is not None:
        scope["state"] = {"request_id": request_id}
    return ResponseFactory(Request(scope))


def body_of(response: Any) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(response.body)
    return parsed


def test_success_envelope() -> None:
    before = datetime.now(UTC)
    response = factory().success({"items": [1, 2]}, status_code=201, headers={"X-A": "1"})
    body = body_of(response)
    assert response.status_code == 201
    assert response.headers["x-a"] == "1"
    assert response.media_type == "application/json"
    assert body["data"] == {"items": [1, 2]}
    assert body["meta"]["success"] is True
    assert body["meta"]["request_id"] == "rid-1"
    stamp = datetime.fromisoformat(body["meta"]["timestamp"])
    assert stamp.utcoffset() == timedelta(0)
    assert before <= stamp <= datetime.now(UTC)
    SuccessEnvelope[dict[str, list[int]]].model_validate(body)


def test_meta_extensions_join_meta() -> None:
    body = body_of(factory().success([], meta_extensions={"page": 2, "total": 40}))
    assert body["meta"]["page"] == 2
    assert body["meta"]["total"] == 40
    assert body["meta"]["success"] is True


def test_error_body_is_rfc9457() -> None:
    response = factory(path="/items/7").error(
        404, "Not Found", "no item 7", headers={"X-B": "2"}, meta_extensions={"hint": "x"}
    )
    body = body_of(response)
    assert response.status_code == 404
    assert response.media_type == PROBLEM_MEDIA_TYPE
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.headers["x-b"] == "2"
    assert response.headers["cache-control"] == "no-store"
    assert body["type"] == "https://httpstatuses.io/404"
    assert (body["title"], body["status"], body["detail"]) == ("Not Found", 404, "no item 7")
    assert body["instance"] == "/items/7"
    assert "errors" not in body
    assert body["meta"]["success"] is False
    assert body["meta"]["hint"] == "x"
    ProblemDetails.model_validate(body)


def test_error_with_errors() -> None:
    body = body_of(factory().error(409, "Conflict", errors=[{"field": "email"}]))
    assert body["errors"] == [{"field": "email"}]
    assert body["detail"] is None


def test_without_a_request_id_meta_says_null() -> None:
    assert body_of(factory(request_id=None).success(1))["meta"]["request_id"] is None


@pytest.mark.parametrize(
    "data",
    [
        None,
        "text ünicode ✓",
        3.5,
        [1, "two", None, True],
        {"nested": {"deep": [{"a": 1}]}},
        Point(x=1, when=datetime(2024, 5, 1, 12, 0, tzinfo=UTC)),
        {"id": uuid.UUID(int=5), "on": date(2024, 1, 2), "price": Decimal("9.50")},
        {"colour": Colour.RED, "tags": {"b"}, "span": timedelta(seconds=90)},
        [Pair(1, 2)],
        {uuid.UUID(int=1): "uuid keys need the slow path"},
        {"past 64 bits": 2**70, "negative": -(2**64)},
        {"lone surrogate": "\ud800", "pair": "\U0001f600"},
        {"null": None, "text with null inside": "nullable", "tiny": 1e-7, "huge": 1e300},
    ],
)
def test_encoder_matches_fastapi(data: Any) -> None:
    assert json.loads(render_json(data)) == jsonable_encoder(data)


def test_encoder_writes_non_string_keys_as_json_does() -> None:
    data = {1: "int keys", None: "and None", 2.5: "and floats", False: "and booleans"}
    assert json.loads(render_json(data)) == json.loads(json.dumps(data))


def test_encoder_is_compact_utf8() -> None:
    assert render_json({"a": [1, 2], "é": "✓"}) == '{"a":[1,2],"é":"✓"}'.encode()


def test_encoder_refuses_nan_like_starlette() -> None:
    with pytest.raises(ValueError, match="Out of range float values"):
        render_json({"x": float("nan")})


@pytest.fixture
async def client(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client() as http:
        add_probe_routes(app_of(http))
        yield http


async def test_success_through_http(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/items/7")
    envelope = SuccessEnvelope[Item].model_validate(response.json())
    assert envelope.data == Item(item_id=7, name="thing")
    assert envelope.meta.request_id == response.headers["x-request-id"]


async def test_status_code_and_root_route(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/probe/login", json={"email": "a@example.com", "password": "right"}
    )
    assert created.status_code == 201
    assert created.json()["data"] == {"email": "a@example.com"}
    root = (await client.get("/")).json()
    assert root["data"]["status"] == "ok"
    assert root["meta"]["success"] is True
