"""Our CORSMiddleware answers exactly as Starlette's does, for every kind of request; the
service's exposes the request ID."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware as StarletteCORSMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.core.middleware.cors import CORSMiddleware

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]

OPTIONS: list[dict[str, Any]] = [
    {"allow_origins": ["https://app.example"], "allow_credentials": True},
    {"allow_origins": ["*"], "allow_credentials": False, "allow_headers": ["*"]},
    {"allow_origins": ["*"], "allow_credentials": True, "expose_headers": ["X-Request-ID"]},
    {"allow_origin_regex": r"https://.*\.example", "allow_methods": ["GET", "POST"]},
]
REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/plain", {}),
    ("GET", "/varies", {}),
    ("GET", "/plain", {"Origin": "https://app.example"}),
    ("GET", "/varies", {"Origin": "https://app.example"}),
    ("GET", "/plain", {"Origin": "https://evil.example.org"}),
    ("POST", "/plain", {"Origin": "https://api.example"}),
    (
        "OPTIONS",
        "/plain",
        {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
    ),
    (
        "OPTIONS",
        "/plain",
        {
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "X-Custom",
        },
    ),
    ("OPTIONS", "/plain", {}),
]


async def _plain(request: Request) -> Response:
    return PlainTextResponse("plain")


async def _varies(request: Request) -> Response:
    return PlainTextResponse("varies", headers={"Vary": "Accept-Encoding"})


def _app(middleware: type, options: dict[str, Any]) -> Starlette:
    routes = [
        Route("/plain", _plain, methods=["GET", "POST", "OPTIONS"]),
        Route("/varies", _varies),
    ]
    return Starlette(routes=routes, middleware=[Middleware(middleware, **options)])


async def _answer(app: Starlette, method: str, path: str, headers: dict[str, str]) -> Any:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.request(method, path, headers=headers)
    return response.status_code, response.headers.multi_items(), response.content


@pytest.mark.parametrize("options", OPTIONS)
async def test_same_responses_as_starlettes_cors(options: dict[str, Any]) -> None:
    ours, theirs = _app(CORSMiddleware, options), _app(StarletteCORSMiddleware, options)
    for method, path, headers in REQUESTS:
        expected = await _answer(theirs, method, path, headers)
        assert await _answer(ours, method, path, headers) == expected, (method, path, headers)


async def test_a_request_without_origin_is_told_the_response_varies_by_origin() -> None:
    app = _app(CORSMiddleware, OPTIONS[0])
    _, headers, _ = await _answer(app, "GET", "/plain", {})
    assert ("vary", "Origin") in headers
    _, headers, _ = await _answer(app, "GET", "/varies", {})
    assert [value for name, value in headers if name == "vary"] == ["Accept-Encoding, Origin"]


async def test_cors_exposes_the_request_id(make_client: ClientFactory) -> None:
    async with make_client(CORS_ALLOW_ORIGINS=["https://app.example"]) as http:
        response = await http.get("/health", headers={"Origin": "https://app.example"})
    assert response.headers["access-control-allow-origin"] == "https://app.example"
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
