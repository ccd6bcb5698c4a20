"""Device info: the request's device, browser and client address, parsed once per request.

Stored at `request.state.device_info` (a `SessionDeviceInfo`) for the routes and the
rate limiter; the parsing itself is `app.core.http.device` (User-Agent and Client
Hints) and `app.core.http.client_ip` (X-Forwarded-For believed only from trusted proxies).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.http.client_ip import ForwardedHeader, TrustedProxies
from app.core.http.device import DeviceInfoExtractor


class DeviceInfoMiddleware:
    """Stores the request's `SessionDeviceInfo` at `request.state.device_info`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        trusted_proxies: Iterable[str] = (),
        forwarded_header: ForwardedHeader = "X-Forwarded-For",
    ) -> None:
        self.app = app
        self.extract = DeviceInfoExtractor(TrustedProxies(trusted_proxies, header=forwarded_header))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            state = scope.get("state")
            if state is None:
                state = scope["state"] = {}
            state["device_info"] = self.extract(scope)
        await self.app(scope, receive, send)
