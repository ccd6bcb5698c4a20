"""NoStoreRoute: a route whose every response, errors included, says `Cache-Control: no-store`.

For answers no browser or shared cache may keep: tokens, account data, the metrics of
the live process. A dependency could set the header only on responses the endpoint
returns; errors (401, 409, 422...) are rendered afterwards by the exception handlers.
Adding it where the response starts covers both.
"""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send


class NoStoreRoute(APIRoute):
    """An APIRoute that adds `Cache-Control: no-store` to whatever it answers."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await super().handle(scope, receive, send_no_store)
