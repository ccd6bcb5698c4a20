"""The pymongo AsyncMongoClient factory, with command metrics attached.

Optional: without MONGO_URL there is no client. AsyncMongoClient connects lazily, so
building one never blocks startup; the lifespan closes it after serving.
"""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from app.core.config import Settings
from app.db.mongo.monitoring import CommandMetricsListener

SERVER_SELECTION_TIMEOUT_MS = 3_000


def create_mongo_client(settings: Settings) -> AsyncMongoClient[dict[str, Any]] | None:
    """An AsyncMongoClient for MONGO_URL that reports every command's duration, or None."""
    if settings.MONGO_URL is None:
        return None
    return AsyncMongoClient(
        settings.MONGO_URL.get_secret_value(),
        event_listeners=[CommandMetricsListener()],
        serverSelectionTimeoutMS=SERVER_SELECTION_TIMEOUT_MS,
        appname=settings.project_identifier,
    )
