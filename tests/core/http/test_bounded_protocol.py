"""The protocol's responses over a real socket, served by uvicorn in this process.

`BoundedHttpToolsProtocol` sends a response's head together with its body; these check
that a head whose body comes later is not held back, that HEAD answers and pipelined
requests are answered in order, and that a streamed body arrives whole.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn

BODY_DELAY_SECONDS = 1.0


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked")]
            if path == "/slow"
            else [(b"content-type", b"text/plain"), (b"content-length", b"2")],
        }
    )
    if path == "/slow":
        await asyncio.sleep(BODY_DELAY_SECONDS)
        await send({"type": "http.response.body", "body": b"late", "more_body": True})
        await send({"type": "http.response.body", "body": b"!", "more_body": False})
        return
    await send({"type": "http.response.body", "body": b"ok", "more_body": False})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        chosen = int(sock.getsockname()[1])
    config = uvicorn.Config(
        _app,
        host="127.0.0.1",
        port=chosen,
        http="app.core.http.bounded_protocol:BoundedHttpToolsProtocol",
        lifespan="off",
        log_config=None,  # leave the process's logging as the other tests expect it
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 5 s
        if server.started:
            break
        await asyncio.sleep(0.01)
    yield chosen
    server.should_exit = True
    await task


async def _read_until(reader: asyncio.StreamReader, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = await reader.read(65_536)
        if not chunk:
            break
        data += chunk
    return data


async def test_a_head_whose_body_comes_later_leaves_at_once(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /slow HTTP/1.1\r\nHost: t\r\n\r\n")
    async with asyncio.timeout(BODY_DELAY_SECONDS / 2):
        head = await _read_until(reader, b"\r\n\r\n")
    async with asyncio.timeout(BODY_DELAY_SECONDS * 5):
        rest = await _read_until(reader, b"0\r\n\r\n")
    writer.close()
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"late" not in head
    assert rest.endswith(b"4\r\nlate\r\n1\r\n!\r\n0\r\n\r\n")


async def test_head_requests_and_pipelined_requests_are_answered_in_order(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"HEAD /a HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /b HTTP/1.1\r\nHost: t\r\n\r\n"
        b"GET /c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    )
    async with asyncio.timeout(5):
        answer = await reader.read(-1)
    writer.close()
    responses = answer.split(b"HTTP/1.1 200 OK\r\n")
    assert len(responses) == 4, answer
    assert not responses[1].endswith(b"ok")  # HEAD: the head alone
    assert responses[2].endswith(b"\r\n\r\nok")
    assert responses[3].endswith(b"\r\n\r\nok")
