"""HTTP middleware orchestration: every layer is a plain ASGI class.

A request passes through the layers in the spec's order:
CORS -> Metrics -> Request ID -> Device Info -> Security Headers -> Rate Limiting -> app.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from app.core.config import Settings, get_settings
from app.core.metrics.metrics_middleware import MetricsMiddleware
from app.core.ratelimit import RateLimitMiddleware


def add_middlewares(app: FastAPI, settings: Settings | None = None) -> None:
    """Register the six middleware so that requests meet them in the spec's order."""
    settings = settings or get_settings()
    # Starlette wraps the last-added middleware outermost, so add them innermost first.
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.CORS_ALLOW_ORIGINS,
        allow_credentials=settings.CORS_ALLOW_CREDENTIALS,
        allow_methods=settings.CORS_ALLOW_METHODS,
        allow_headers=settings.CORS_ALLOW_HEADERS,
    )
