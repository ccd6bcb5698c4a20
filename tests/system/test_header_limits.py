"""`python -m app` bounds request heads: a huge header or too many fields get a quick 431
(or, for a flood larger than the socket buffers, a closed connection), never a stall."""

from __future__ import annotations

import socket
from collections.abc import Callable

import httpx

from tests.system.app_process import AppProcess

TIMEOUT_SECONDS = 10.0


def exchange(port: int, head: bytes) -> bytes:
    """Send `head` (a request without body) and read the answer until the server closes."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_SECONDS) as sock:
        try:
            sock.sendall(head)
            while chunk := sock.recv(65_536):
                answer += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass  # refused mid-send: the server stopped reading, which is the point
    return answer


def request(*headers: bytes) -> bytes:
    return (
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        + b"".join(headers)
        + b"\r\n"
    )


def test_oversize_or_too_many_headers_are_refused_and_ordinary_ones_pass(
    start_app: Callable[..., AppProcess],
) -> None:
    app = start_app()
    big_value = exchange(app.port, request(b"X-Big: " + b"a" * 100_000 + b"\r\n"))
    many = exchange(app.port, request(*(b"X-H%d: v\r\n" % n for n in range(500))))
    flood = exchange(app.port, request(b"X-Flood: " + b"a" * 50_000_000 + b"\r\n"))
    # An ordinary request with many ordinary headers still passes after all that.
    ordinary = {f"X-Ok-{n}": "v" * 100 for n in range(40)}
    health = httpx.get(app.url + "/health", headers=ordinary, timeout=TIMEOUT_SECONDS)

    assert big_value.startswith(b"HTTP/1.1 431 "), big_value[:200]
    assert b"application/problem+json" in big_value
    assert many.startswith(b"HTTP/1.1 431 "), many[:200]
    assert flood == b"" or flood.startswith(b"HTTP/1.1 431 "), flood[:200]
    assert health.status_code == 200
