"""HTTP middleware orchestration: `add_middlewares` puts the layers in order.

A request passes through the layers in the spec's order (outer -> inner):
CORS -> Metrics -> Request ID -> Device Info -> Security Headers -> Rate Limiting -> app,
with two small guards just inside the security headers: the error boundary (so even an
unhandled 500 leaves with the request ID, security headers and CORS) and the request
body size limit (so a 413 does too, and the rate limiter never reads an oversized body).
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from fastapi import FastAPI
from starlette.types import ASGIApp

from app.core.config import Settings, get_settings
from app.core.http.docs import docs_page_paths
from app.core.metrics.metrics_middleware import MetricsMiddleware
from app.core.middleware.body_limit import BodySizeLimitMiddleware
from app.core.middleware.cors import CORSMiddleware
from app.core.middleware.device_info import DeviceInfoMiddleware
from app.core.middleware.error_boundary import ErrorBoundaryMiddleware
from app.core.middleware.rate_limit import RateLimitMiddleware
from app.core.middleware.request_id import RequestIDMiddleware
from app.core.middleware.security_headers import SecurityHeadersMiddleware
from app.core.ratelimit import RateLimiter


def add_middlewares(
    app: FastAPI,
    settings: Settings | None = None,
    *,
    leave_out: Collection[Callable[..., ASGIApp]] = (),
) -> None:
    """Register the middleware so that requests meet them in the spec's order.

    `leave_out` names middleware classes to skip; the others keep their order (`make
    bench` measures what each layer costs by its absence).
    """
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
    app.add_middleware(SecurityHeadersMiddleware, docs_paths=docs_page_paths(app))
    app.add_middleware(
        DeviceInfoMiddleware,
        trusted_proxies=settings.TRUSTED_PROXIES,
        forwarded_header=settings.TRUSTED_PROXY_HEADER,
    )
    app.add_middleware(RequestIDMiddleware, access_log=settings.LOG_ACCESS)
    # The request-ID middleware records the status both count (one observation); without
    # it, the metrics middleware records it.
    app.add_middleware(
        MetricsMiddleware, status_recorded_inside=RequestIDMiddleware not in leave_out
    )
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.CORS_ALLOW_ORIGINS,
        allow_credentials=settings.CORS_ALLOW_CREDENTIALS,
        allow_methods=settings.CORS_ALLOW_METHODS,
        allow_headers=settings.CORS_ALLOW_HEADERS,
        expose_headers=["X-Request-ID"],
    )
    if leave_out:
        app.user_middleware[:] = [
            middleware for middleware in app.user_middleware if middleware.cls not in leave_out
        ]
