"""HTTP request metrics middleware (observability issue)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class MetricsMiddleware:
    """Records app_requests_total, app_request_latency_seconds and app_errors_total."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
