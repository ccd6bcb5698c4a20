"""HTTP middleware orchestration: every layer is a plain ASGI class.

A request passes through the layers in the spec's order (outer -> inner):
CORS -> Metrics -> Request ID -> Device Info -> Security Headers -> Rate Limiting -> app,
with two small guards just inside the security headers: the error boundary (so even an
unhandled 500 leaves with the request ID, security headers and CORS) and the request
body size limit (so a 413 does too, and the rate limiter never reads an oversized body).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.config import Settings, get_settings
from app.core.http.body_limit import BodySizeLimitMiddleware
from app.core.http.client_ip import ForwardedHeader, TrustedProxies
from app.core.http.cors import CORSMiddleware
from app.core.http.device import DeviceInfoExtractor
from app.core.http.error_boundary import ErrorBoundaryMiddleware
from app.core.http.request_id import RequestIDMiddleware
from app.core.http.security_headers import SecurityHeadersMiddleware
from app.core.metrics.metrics_middleware import MetricsMiddleware
from app.core.ratelimit import RateLimiter, RateLimitMiddleware

__all__ = [
    "BodySizeLimitMiddleware",
    "DeviceInfoMiddleware",
    "ErrorBoundaryMiddleware",
    "RequestIDMiddleware",
    "SecurityHeadersMiddleware",
    "add_middlewares",
]


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


def _docs_paths(app: FastAPI) -> list[str]:
    return [
        path
        for path in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
        if path and app.openapi_url
    ]


def add_middlewares(app: FastAPI, settings: Settings | None = None) -> None:
    """Register the middleware so that requests meet them in the spec's order."""
    settings = settings or get_settings()
    # Starlette wraps the last-added middleware outermost, so add them innermost first.
    # On app.state so that domains register their rules with it and the lifespan starts
    # and closes it (None when disabled).
    app.state.rate_limiter = RateLimiter.from_settings(settings)
    app.add_middleware(
        RateLimitMiddleware,
        limiter=app.state.rate_limiter,
        max_body_bytes=settings.MAX_REQUEST_BODY_BYTES,
    )
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=settings.MAX_REQUEST_BODY_BYTES)
    app.add_middleware(ErrorBoundaryMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=_docs_paths(app))
    app.add_middleware(
        DeviceInfoMiddleware,
        trusted_proxies=settings.TRUSTED_PROXIES,
        forwarded_header=settings.TRUSTED_PROXY_HEADER,
    )
    app.add_middleware(RequestIDMiddleware, access_log=settings.LOG_ACCESS)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.CORS_ALLOW_ORIGINS,
        allow_credentials=settings.CORS_ALLOW_CREDENTIALS,
        allow_methods=settings.CORS_ALLOW_METHODS,
        allow_headers=settings.CORS_ALLOW_HEADERS,
        expose_headers=["X-Request-ID"],
    )
