"""Where PostgreSQL failures become HTTP errors: an unreachable database is a 503.

A database that is down, restarting, refusing connections or cut off mid-request is not
a fault in the request: the client should retry later, so it gets 503 problem+json,
whichever step found out (connect, a query, the unit of work's COMMIT or ROLLBACK).
Anything else (a constraint, a bug in our SQL) stays an error for the caller to handle
or a 500.

What reaches the logs of such a 500 holds no row values. The engine hides bound
parameters (`hide_parameters=True`), and PostgreSQL's own text can still carry them
("DETAIL: Failing row contains (..., '$argon2id$...', ...)", "Key (email)=(...)"), so
the error logged is `DatabaseError`: the error types, SQLSTATE, constraint, table and
the SQL text (placeholders, not values), with the original's traceback but not its
message.

SQLAlchemy does not always say "disconnect": asyncpg's "connection was closed in the
middle of operation" reaches us as a plain `DBAPIError` without `connection_invalidated`,
so the driver's own exception is looked at too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg.exceptions as pg
from fastapi import Request, Response
from sqlalchemy import exc as sa_exc

from app.core.exceptions import ServiceUnavailableError, http_exception_handler
from app.core.logger import get_logger

logger = get_logger("app.db.postgres")

DATABASE_UNAVAILABLE = "database unavailable"
MAX_LOGGED_SQL_CHARS = 1000

# Driver errors that mean "the server or the path to it is gone", not "your SQL failed":
# SQLSTATE classes 08 (connection exception), 57 (operator intervention: shutdown,
# cannot connect now), 53 (insufficient resources: too many connections), the driver's
# own "connection is closed" errors, sockets and timeouts.
_DRIVER_UNAVAILABLE = (
    pg.PostgresConnectionError,
    pg.OperatorInterventionError,
    pg.InsufficientResourcesError,
    pg.InterfaceError,
    OSError,
    TimeoutError,
)


class DatabaseError(Exception):
    """A database error reduced to what may be logged: types, SQLSTATE, names, SQL text."""


def _driver_error(error: BaseException) -> BaseException | None:
    """The driver's own exception: `error` itself, or the one under SQLAlchemy's adapter."""
    orig = error if isinstance(error, pg.PostgresError) else getattr(error, "orig", None)
    if not isinstance(orig, BaseException):
        return None
    return orig.__cause__ or orig


def loggable_error(error: BaseException) -> DatabaseError:
    """`error` without any value from the row or the statement's parameters."""
    parts = [type(error).__name__]
    driver = _driver_error(error)
    if driver is not None and driver is not error:
        parts.append(type(driver).__name__)
    for attribute in ("sqlstate", "constraint_name", "table_name", "column_name"):
        value = getattr(driver, attribute, None)
        if isinstance(value, str) and value:
            parts.append(f"{attribute}={value}")
    statement = getattr(error, "statement", None)
    if isinstance(statement, str):
        parts.append(f"SQL: {statement[:MAX_LOGGED_SQL_CHARS]}")
    return DatabaseError("; ".join(parts))


def driver_error_is_unavailable(error: BaseException | None) -> bool:
    seen = 0
    while error is not None and seen < 5:  # orig -> the driver's exception -> its cause
        if isinstance(error, _DRIVER_UNAVAILABLE):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def is_database_unavailable(error: BaseException) -> bool:
    """A lost, refused or exhausted connection rather than a fault in our SQL."""
    if isinstance(error, sa_exc.DBAPIError):
        return (
            error.connection_invalidated
            # OperationalError/InterfaceError: connection lost or refused, server states.
            or isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError)
            or driver_error_is_unavailable(error.orig)
        )
    # TimeoutError: no pooled connection in time; OSError: connect.
    return isinstance(error, sa_exc.TimeoutError | OSError | TimeoutError)


def unavailable_error(error: BaseException) -> ServiceUnavailableError:
    """The 503 for `error`, logged once with the driver's error type (never its message)."""
    cause = getattr(error, "orig", None) or error
    logger.error("database_unavailable", extra={"error": type(cause).__name__})
    return ServiceUnavailableError(detail=DATABASE_UNAVAILABLE)


@asynccontextmanager
async def translated_errors() -> AsyncIterator[None]:
    """Raise a 503 for an unreachable database; let every other error through."""
    try:
        yield
    except (sa_exc.SQLAlchemyError, OSError) as e:
        if not is_database_unavailable(e):
            raise
        raise unavailable_error(e) from e


async def database_error_handler(request: Request, exc: Exception) -> Response:
    """Every database error a request raises: a 503 if unreachable, else a 500.

    Any other error goes on to the error boundary as a `DatabaseError` (see above),
    which answers the 500, logs it and counts it in app_errors_total as for any
    unhandled exception.
    """
    if not is_database_unavailable(exc):
        raise loggable_error(exc).with_traceback(exc.__traceback__) from None
    return await http_exception_handler(request, unavailable_error(exc))
