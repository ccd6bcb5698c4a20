"""Structured, non-blocking logging with request/user context (observability issue).

Foundation stub: the ContextVars and the public functions exist so the rest of the app
can log; the JSON/queue pipeline replaces the bodies.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.config import Settings

request_id_ctx: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_ctx: ContextVar[str | None] = ContextVar("user_id", default=None)


def configure_logging(settings: Settings) -> None:
    """Install the handlers for these settings (idempotent)."""
    logging.basicConfig(level=settings.LOG_LEVEL)


def get_logger(name: str) -> logging.Logger:
    """A domain-scoped logger, e.g. `get_logger("app.auth.service")`."""
    return logging.getLogger(name)


def stop_logger() -> None:
    """Flush every queued record and stop the listener thread (safe to call twice)."""
