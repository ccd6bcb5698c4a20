"""Request ID middleware: one ID per request, in the state, the log context and the response.

An incoming X-Request-ID is kept only if it is 1-128 characters of `[A-Za-z0-9._:-]`
(anything else could smuggle text into logs), otherwise a UUID4 is generated
(`app.core.random_ids`). The ID
goes to `request.state.request_id`, to `request_id_ctx` for every log line of the
request (reset afterwards), and to the X-Request-ID response header.

Being a plain ASGI middleware (not BaseHTTPMiddleware), the ContextVar it sets is seen
by the endpoint, its dependencies and the exception handlers, and streamed bodies pass
through chunk by chunk.

It also writes the request's one access-log line ("canonical log line") after the
response, while the request ID is still in context: uvicorn's own access log is off.
`access_log=False` (LOG_ACCESS=false) leaves that line out, for deployments whose proxy
already logs every request; the request's other log lines still carry its ID.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.http.observation import Observation
from app.core.http.route import route_template
from app.core.logger import get_logger, log_fields, request_id_ctx, user_id_ctx
from app.core.random_ids import new_request_id

REQUEST_ID_HEADER = b"x-request-id"
MAX_REQUEST_ID_LENGTH = 128
MAX_LOGGED_PATH_LENGTH = 512
_ALLOWED = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-"


def is_valid_request_id(value: bytes) -> bool:
    """1-128 bytes of `[A-Za-z0-9._:-]` (a translate, cheaper than a regex match)."""
    return 0 < len(value) <= MAX_REQUEST_ID_LENGTH and not value.translate(None, _ALLOWED)


class RequestIDMiddleware:
    """Assigns the request ID, exposes it everywhere, and logs one line per request."""

    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_logger = get_logger("app.http.access")
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id: str | None = None
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                if is_valid_request_id(value):
                    request_id = value.decode("ascii")
                break
        if request_id is None:
            request_id = new_request_id()
        state = scope.get("state")
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        token = request_id_ctx.set(request_id)
        # Servers give each request a fresh context, but in-process callers (test clients,
        # embedding apps) may share one: start anonymous, so no user id leaks across.
        user_token = user_id_ctx.set(None)
        try:
            if scope_type == "http":
                await self._http(scope, receive, send, request_id)
            else:
                await self.app(scope, receive, send)
        finally:
            user_id_ctx.reset(user_token)
            request_id_ctx.reset(token)

    async def _http(self, scope: Scope, receive: Receive, send: Send, request_id: str) -> None:
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))
        # Started by the metrics middleware outside, which counts what is recorded here.
        observation = Observation.of(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                observation.status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = observation.stop()
            if self.access_log and self.access_logger.isEnabledFor(logging.INFO):
                self._log(scope, observation.status, elapsed)

    def _log(self, scope: Scope, status: int, elapsed: float) -> None:
        device_info = scope["state"].get("device_info")
        if device_info is not None:
            client_ip = device_info.ip_address
        else:
            client = scope.get("client")
            client_ip = client[0] if client else None
        log_fields(
            self.access_logger,
            logging.INFO,
            "request",
            {
                "method": scope["method"],
                "path": route_template(scope) or scope["path"][:MAX_LOGGED_PATH_LENGTH],
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
                "client_ip": client_ip,
            },
        )
