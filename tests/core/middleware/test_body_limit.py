"""The request body limit: declared and counted bodies over MAX_REQUEST_BODY_BYTES are 413.

Through the service app (problem+json, the probe routes) and on the middleware alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.errors import PayloadTooLargeError
from app.core.middleware.body_limit import BodySizeLimitMiddleware
from tests.core.probe_routes import add_probe_routes, assert_problem

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
async def client(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(MAX_REQUEST_BODY_BYTES=4096) as http:
        add_probe_routes(app_of(http))
        yield http


async def test_declared_body_over_the_limit_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/echo-size", content=b"x" * 5000)
    body = assert_problem(response, 413)
    assert "4096" in body["detail"]


async def test_chunked_body_over_the_limit_is_413_without_reading_it_all(
    client: httpx.AsyncClient,
) -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(64):
            pulled += 1
            yield b"x" * 1024

    response = await client.post("/probe/echo-size", content=chunks())
    assert "content-length" not in response.request.headers
    assert_problem(response, 413)
    assert pulled == 5  # the fifth KiB crossed 4096 bytes; nothing after it was read


async def test_chunked_body_within_the_limit_passes(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 1024

    response = await client.post("/probe/echo-size", content=chunks())
    assert response.status_code == 200
    assert response.json()["data"] == {"size": 4096}


@pytest.mark.parametrize(("http_version", "status"), [("2", 413), ("1.1", 200)])
async def test_a_body_without_length_is_counted_unless_http1_rules_it_out(
    client: httpx.AsyncClient,
    app_of: Callable[[httpx.AsyncClient], FastAPI],
    http_version: str,
    status: int,
) -> None:
    """HTTP/2 may send a body with neither Content-Length nor chunked framing; HTTP/1.1
    cannot (the server then hands the app no body, so there is nothing to count)."""
    chunks = [b"x" * 1024] * 5
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if chunks and http_version == "2":
            return {"type": "http.request", "body": chunks.pop(), "more_body": bool(chunks)}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": http_version,
        "method": "POST",
        "scheme": "http",
        "path": "/probe/echo-size",
        "raw_path": b"/probe/echo-size",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    await app_of(client)(scope, receive, send)
    assert sent[0]["status"] == status


async def test_oversized_json_body_is_413_before_validation(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/login", json={"email": "a@example.com", "password": "p" * 5000}
    )
    assert_problem(response, 413)


def _scope(headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {"type": "http", "http_version": "1.1", "path": "/", "headers": headers}


async def _read_body(limit: int, headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> bytes:
    """What an app reading the whole body gets through the middleware at `limit` bytes."""
    pending = list(chunks)
    read: list[bytes] = []

    async def receive() -> dict[str, Any]:
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def reader(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            read.append(message["body"])
            if not message["more_body"]:
                return

    async def send(message: Any) -> None:
        raise AssertionError("the reading app sends nothing")

    middleware = BodySizeLimitMiddleware(reader, max_body_bytes=limit)
    await middleware(_scope(headers), receive, send)
    return b"".join(read)


async def test_a_content_length_that_is_no_number_gets_the_body_counted() -> None:
    headers = [(b"content-length", b"five")]
    with pytest.raises(PayloadTooLargeError) as refused:
        await _read_body(10, headers, [b"x" * 6, b"x" * 6, b"x" * 6])
    assert refused.value.detail == "The request body exceeds the limit of 10 bytes."
    assert await _read_body(10, headers, [b"x" * 5, b"x" * 5]) == b"x" * 10


async def test_a_declared_length_within_the_limit_is_not_counted() -> None:
    """The server hands the app no more than it declared: nothing to count, the app reads it all."""
    # More than declared would be the server's bug; the middleware leaves the reading alone.
    assert await _read_body(10, [(b"content-length", b"10")], [b"x" * 8, b"x" * 8]) == b"x" * 16


async def test_websocket_and_lifespan_scopes_pass_through_untouched() -> None:
    seen: list[tuple[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope["type"], receive))

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.receive", "bytes": b"x" * 100}

    middleware = BodySizeLimitMiddleware(app, max_body_bytes=1)
    await middleware({"type": "websocket", "headers": []}, receive, receive)
    await middleware({"type": "lifespan"}, receive, receive)
    assert seen == [("websocket", receive), ("lifespan", receive)]
