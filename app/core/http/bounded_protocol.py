"""uvicorn's httptools protocol with bounded request heads (431 past the limits).

httptools (llhttp) sets no limit on a request's header size or count, and accumulates
a long header value chunk by chunk: one 64 MB header stalled every other request for
seconds. `BoundedHttpToolsProtocol` refuses a head over `max_head_bytes` (request line
plus headers) or over `max_headers` fields with 431 Request Header Fields Too Large
and closes the connection:

- while the head is incomplete, the bytes received for it are counted as they arrive,
  so an endless header is cut after at most one read past the limit;
- once complete, the head's exact size (URL, names, values) is checked before the app
  sees the request;
- the field count is checked as each header is parsed.

The head limit is uvicorn's `h11_max_incomplete_event_size` (what the h11 protocol
calls the same bound), so one Config value serves either implementation.

It also sends a response's head and the first part of its body in one write. uvicorn
writes them separately, as the app sends them: two `send()` system calls and two TCP
segments per response, each costing the server the kernel's work on it (over loopback,
the receiving side's too). Each response's writes go through a `_HeadHoldingTransport`
that holds the first one (the head) until the next, and no longer than the current turn
of the event loop: a head whose body comes later (a stream, a HEAD request) still
leaves at once.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

DEFAULT_MAX_HEAD_BYTES = 32_768
DEFAULT_MAX_HEADERS = 100
# Per header: ": " and CRLF around a name and value; the request line's CRLF and the
# blank line are counted with the URL's overhead.
_HEADER_OVERHEAD = 4
_REQUEST_LINE_OVERHEAD = 20


class HeadTooLargeError(Exception):
    """Raised inside a parser callback; the protocol answers 431 and closes."""


def _response_431(detail: str) -> bytes:
    body = json.dumps(
        {
            "type": "https://httpstatuses.io/431",
            "title": "Request Header Fields Too Large",
            "status": 431,
            "detail": detail,
        }
    ).encode()
    return (
        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
        b"content-type: application/problem+json\r\n"
        b"content-length: " + str(len(body)).encode() + b"\r\n"
        b"connection: close\r\n\r\n" + body
    )


class _HeadHoldingTransport:
    """One response's view of the connection: its first write waits for its second.

    Everything but `write` and `close` is the connection's own transport.
    """

    __slots__ = ("_head", "_loop", "_transport", "_writes")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None
        self._writes = 0

    def write(self, data: bytes) -> None:
        self._writes += 1
        if self._writes == 1:
            self._head = data
            self._loop.call_soon(self.flush)
            return
        head = self._head
        if head is not None:
            self._head = None
            data = head + data
        self._transport.write(data)

    def flush(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that answers 431 to request heads over its size or count limit."""

    max_headers = DEFAULT_MAX_HEADERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes = self.config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
        self._in_head = True
        self._head_bytes = 0
        self._refusal: str | None = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and self._refusal is None and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse("request header fields too large")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= self.max_headers:
            self._refusal = "too many request header fields"
            raise HeadTooLargeError(self._refusal)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        size = len(self.url) + _REQUEST_LINE_OVERHEAD
        for name, value in self.headers:
            size += len(name) + len(value) + _HEADER_OVERHEAD
        if size > self.max_head_bytes:
            self._refusal = "request header fields too large"
            raise HeadTooLargeError(self._refusal)
        self._in_head = False
        previous = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not previous and cycle is not None:  # not an upgrade: a new response
            cycle.transport = _HeadHoldingTransport(self.transport, self.loop)  # type: ignore[assignment]

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error with 400; ours (raised in a callback) is 431.
        if self._refusal is not None:
            self._refuse(self._refusal)
            return
        super().send_400_response(msg)

    def _refuse(self, detail: str) -> None:
        self._refusal = detail
        self.transport.write(_response_431(detail))
        self.transport.close()
