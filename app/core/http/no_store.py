"""NoStoreRoute: a route whose every response, errors included, says `Cache-Control: no-store`.

For answers no browser or shared cache may keep: tokens, account data, the metrics of
the live process. A dependency could set the header only on responses the endpoint
returns; errors (401, 409, 422...) are rendered afterwards by the exception handlers.
Adding it where the response starts covers both.

Its `matches` also turns a request for another path away before FastAPI's and
Starlette's full matching (effective route context, path regex, child scope): the routes
of a flat table are tried one by one, and every route in front of the one requested is
such a miss (about 0.9 µs each; `/health` sits behind the nine auth routes).
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Message, Receive, Scope, Send

_CACHE_CONTROL = b"cache-control"
_NO_STORE = (_CACHE_CONTROL, b"no-store")


class NoStoreRoute(APIRoute):
    """An APIRoute that adds `Cache-Control: no-store` to whatever it answers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A template without parameters matches exactly one path, itself; one with
        # parameters only paths that start with the text before its first parameter.
        self._static = not self.param_convertors
        self._literal_prefix = self.path.partition("{")[0]

    def _cannot_match(self, path: str) -> bool:
        if self._static:
            return path != self._literal_prefix
        return not path.startswith(self._literal_prefix)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and self._cannot_match(scope["path"])
            and not scope.get("root_path")
            # Reached through an included router, the route answers at its prefixed path.
            and scope.get("fastapi", {}).get("effective_route_context") is None
        ):
            return Match.NONE, {}
        return super().matches(scope)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                # An endpoint's own Cache-Control gives way.
                headers = [h for h in message.get("headers", ()) if h[0].lower() != _CACHE_CONTROL]
                headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        await super().handle(scope, receive, send_no_store)
