"""The AsyncEngine factory.

Takes a URL and pool parameters rather than reading settings, so tests and tools can
build engines for any database.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings


def create_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """An AsyncEngine for `url` (default: settings.database_url) with a bounded pool."""
    return create_async_engine(
        url or settings.database_url,
        pool_size=settings.POSTGRES_POOL_SIZE,
        max_overflow=settings.POSTGRES_MAX_OVERFLOW,
        pool_timeout=settings.POSTGRES_POOL_TIMEOUT_SECONDS,
        pool_pre_ping=True,
        connect_args={"timeout": settings.POSTGRES_CONNECT_TIMEOUT_SECONDS},
    )
