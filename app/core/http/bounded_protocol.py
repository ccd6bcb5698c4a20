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
"""

from __future__ import annotations

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
        super().on_headers_complete()

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
