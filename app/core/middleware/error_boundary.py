"""Error boundary: unhandled exceptions become problem+json responses inside the stack.

Starlette renders an unhandled exception in ServerErrorMiddleware, outside every user
middleware, so that 500 would leave without the X-Request-ID, the security headers and
the CORS headers. This middleware sits just inside the security headers and catches
what escapes the app (and the middleware below it, such as rate limiting) before the
response has started: HTTP errors go to the HTTP exception handler, anything else to
the catch-all handler, which logs the traceback with the request ID. The exception is
not re-raised, so neither Starlette nor the server logs it a second time; outer
middleware that count errors find it at `scope["state"]["unhandled_exception"]`.

An exception after the response started can't become a new response: it is re-raised
so the server aborts the connection.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import UNHANDLED_EXCEPTION_STATE_KEY
from app.core.exceptions import http_exception_handler, unhandled_exception_handler


class ErrorBoundaryMiddleware:
    """Turns exceptions raised before the response started into problem+json responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def send_tracking(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            if response_started:
                raise
            request = Request(scope, receive)
            if isinstance(exc, StarletteHTTPException):
                response = await http_exception_handler(request, exc)
            else:
                scope.setdefault("state", {})[UNHANDLED_EXCEPTION_STATE_KEY] = exc
                response = await unhandled_exception_handler(request, exc)
            await response(scope, receive, send)
