"""Request body size limit (MAX_REQUEST_BODY_BYTES) without reading the body into memory.

A declared Content-Length over the limit is refused before the app runs. A body without
one (chunked) is counted as the app reads it, and the read that crosses the limit raises
`PayloadTooLargeError`; the exception handlers (or the error boundary, for code outside
FastAPI) turn it into a 413 problem+json. Either way at most one chunk past the limit is
ever held. A Content-Length within the limit needs no counting: the server never hands
the app more bytes than it declared.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PayloadTooLargeError

# HTTP/1.x (RFC 9112, 6.3): a request with neither Content-Length nor Transfer-Encoding
# has no body. HTTP/2 and HTTP/3 may stream one without a length, so those are counted.
_WITHOUT_FRAMING_NO_BODY = frozenset({"1.0", "1.1"})


class BodySizeLimitMiddleware:
    """Refuses request bodies larger than `max_body_bytes` with 413."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.detail = f"The request body exceeds the limit of {max_body_bytes} bytes."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        must_count = False  # a body may come without a valid declared length
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    must_count = True  # the server rejects it; count the body if it doesn't
                    break
                if declared > limit:
                    raise PayloadTooLargeError(detail=self.detail)
                await self.app(scope, receive, send)
                return
            if name == b"transfer-encoding":
                must_count = True
        if not must_count and scope.get("http_version") in _WITHOUT_FRAMING_NO_BODY:
            await self.app(scope, receive, send)  # HTTP/1.x: no length, no chunks, no body
            return
        await self.app(scope, self._counting(receive), send)

    def _counting(self, receive: Receive) -> Receive:
        received = 0
        limit = self.max_body_bytes
        detail = self.detail

        async def receive_counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(detail=detail)
            return message

        return receive_counted
