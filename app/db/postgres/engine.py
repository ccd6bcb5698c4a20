"""The AsyncEngine factory, instrumented with db_postgres_query_duration_seconds.

Takes the settings and an optional URL rather than reading globals, so tests and tools
can build engines for any database. Every engine it builds times each cursor execution
with SQLAlchemy's before/after_cursor_execute events and observes the histogram by
operation: the statement's first keyword if it is SELECT, INSERT, UPDATE or DELETE,
else OTHER (DDL, WITH..., BEGIN...), which keeps the label set fixed.
"""

from __future__ import annotations

import re
from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.core.config import Settings
from app.core.metrics.global_metrics import db_postgres_query_duration

OPERATIONS = ("SELECT", "INSERT", "UPDATE", "DELETE")
OTHER_OPERATION = "OTHER"

_FIRST_WORD = re.compile(r"\s*([A-Za-z]+)")
_STARTED = "query_started_at"
_histograms = {
    operation: db_postgres_query_duration.labels(operation)
    for operation in (*OPERATIONS, OTHER_OPERATION)
}


def statement_operation(statement: str) -> str:
    """SELECT, INSERT, UPDATE, DELETE, or OTHER for any other statement."""
    match = _FIRST_WORD.match(statement)
    word = match[1].upper() if match else ""
    return word if word in OPERATIONS else OTHER_OPERATION


def _before_cursor_execute(conn: Connection, *_: Any) -> None:
    # A connection runs one statement at a time, so one slot per connection suffices;
    # a failed statement's slot is simply overwritten by the next one.
    conn.info[_STARTED] = perf_counter()


def _after_cursor_execute(conn: Connection, cursor: Any, statement: str, *_: Any) -> None:
    started = conn.info.pop(_STARTED, None)
    if started is not None:
        observe_statement(statement_operation(statement), perf_counter() - started)


def observe_statement(operation: str, seconds: float) -> None:
    """Count one statement of `operation` (see `statement_operation`) that took `seconds`."""
    _histograms[operation].observe(seconds)


def instrument_engine(engine: Engine) -> None:
    """Observe db_postgres_query_duration_seconds for every statement `engine` runs."""
    if not event.contains(engine, "before_cursor_execute", _before_cursor_execute):
        event.listen(engine, "before_cursor_execute", _before_cursor_execute)
        event.listen(engine, "after_cursor_execute", _after_cursor_execute)


def create_database_engine(settings: Settings, url: str | None = None) -> AsyncEngine:
    """An instrumented AsyncEngine for `url` (default: settings.database_url) with a bounded pool."""
    engine = create_async_engine(
        url or settings.database_url,
        pool_size=settings.POSTGRES_POOL_SIZE,
        max_overflow=settings.POSTGRES_MAX_OVERFLOW,
        pool_timeout=settings.POSTGRES_POOL_TIMEOUT_SECONDS,
        pool_recycle=settings.POSTGRES_POOL_RECYCLE_SECONDS,
        # No pre-ping: it is a round trip on every checkout. A connection found dead
        # when used is invalidated by SQLAlchemy, and with it every pooled connection
        # older than the failure, so one request pays (a 503, or a retry where the
        # caller knows the statement is safe to repeat) instead of every request.
        pool_pre_ping=False,
        # Bound values (password hashes, emails, tokens) never enter an error's text or a
        # log line, in any environment.
        hide_parameters=True,
        connect_args={
            "timeout": settings.POSTGRES_CONNECT_TIMEOUT_SECONDS,
            # Without it a statement on a connection whose network went silent waits
            # for TCP to give up (minutes).
            "command_timeout": settings.POSTGRES_COMMAND_TIMEOUT_SECONDS,
        },
    )
    instrument_engine(engine.sync_engine)
    return engine
