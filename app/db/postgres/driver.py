"""Statements run by asyncpg on a pool of their own, without SQLAlchemy's layers.

For the hot path of a frequent endpoint whose statement is fixed text (a login's
credentials and session, a refresh's rotation): each statement is its own transaction,
prepared once per connection by asyncpg's statement cache. Against the same statement
through an AsyncSession this saves the session, its transaction, the execution context
and the result wrappers; against a connection checked out of the engine's pool, the
greenlet hops of SQLAlchemy's async pool (`make bench ENDPOINTS=refresh`: 0.49x of
plain FastAPI's CPU per request through the engine's pool, 0.76x on this one).

`DriverPool` is that pool: up to POSTGRES_DRIVER_POOL_SIZE connections per worker,
opened as load needs them, beside the engine's. A connection goes back without
asyncpg's reset query (a round trip per release): the statements run here leave no
session state behind, and an open transaction is still rolled back.

Errors are those of the unit of work: a database that cannot be reached is a 503 (and
the connection is dropped, so the pool does not hand it out again), any other database
error is logged without values (`loggable_error`). Timings go to
db_postgres_query_duration_seconds as for every other statement.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any, NoReturn

import asyncpg
from sqlalchemy.engine.url import make_url

from app.core.config import Settings
from app.db.postgres.engine import observe_statement, statement_operation
from app.db.postgres.errors import (
    driver_error_is_unavailable,
    loggable_error,
    unavailable_error,
)


class DriverConnection:
    """One acquired connection, timing what it runs."""

    __slots__ = ("_connection",)

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def execute(self, statement: str, *args: Any, operation: str | None = None) -> str:
        """Run `statement`; asyncpg's status line, such as "UPDATE 1".

        `operation` labels its timing when the first keyword does not say what it does
        (a `WITH ... INSERT`); by default, `statement_operation` decides.
        """
        status: str = await self._timed(self._connection.execute, statement, args, operation)
        return status

    async def fetchrow(self, statement: str, *args: Any) -> Mapping[str, Any] | None:
        """Run `statement`; its first row (asyncpg's Record), or None."""
        row: Mapping[str, Any] | None = await self._timed(
            self._connection.fetchrow, statement, args, None
        )
        return row

    @staticmethod
    async def _timed(
        run: Callable[..., Awaitable[Any]],
        statement: str,
        args: tuple[Any, ...],
        operation: str | None,
    ) -> Any:
        started = perf_counter()
        try:
            return await run(statement, *args)
        finally:
            label = operation or statement_operation(statement)
            observe_statement(label, perf_counter() - started)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Release without a reset query: asyncpg has already rolled back an open transaction."""


def driver_dsn(database_url: str) -> str:
    """asyncpg's DSN for a SQLAlchemy `postgresql+asyncpg://` URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class DriverPool:
    """The asyncpg pool `driver_connection` draws from; opened and closed by the lifespan."""

    def __init__(self, pool: asyncpg.Pool, *, acquire_timeout: float) -> None:
        self._pool = pool
        self._acquire_timeout = acquire_timeout

    @classmethod
    async def open(cls, settings: Settings, url: str | None = None) -> DriverPool:
        """A pool for `url` (default: settings.database_url); connects only when used."""
        pool = await asyncpg.create_pool(
            driver_dsn(url or settings.database_url),
            min_size=0,
            max_size=settings.POSTGRES_DRIVER_POOL_SIZE,
            timeout=settings.POSTGRES_CONNECT_TIMEOUT_SECONDS,
            command_timeout=settings.POSTGRES_COMMAND_TIMEOUT_SECONDS,
            reset=_keep_session,
        )
        return cls(pool, acquire_timeout=settings.POSTGRES_POOL_TIMEOUT_SECONDS)

    @property
    def max_size(self) -> int:
        """The most connections it opens (POSTGRES_DRIVER_POOL_SIZE)."""
        size: int = self._pool.get_max_size()
        return size

    @property
    def checked_out(self) -> int:
        """Connections in use now."""
        in_use: int = self._pool.get_size() - self._pool.get_idle_size()
        return in_use

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[DriverConnection]:
        """A pooled connection in autocommit, back in the pool at the end."""
        try:
            connection = await self._pool.acquire(timeout=self._acquire_timeout)
        except _DRIVER_ERRORS as e:
            _raise_translated(e)
        try:
            yield DriverConnection(connection)
        except _DRIVER_ERRORS as e:
            if driver_error_is_unavailable(e):
                # Lost or stuck: the pool opens a new one. A connection that closed
                # itself is already back in the pool, its proxy detached.
                with contextlib.suppress(asyncpg.InterfaceError):
                    connection.terminate()
            _raise_translated(e)
        finally:
            await self._pool.release(connection)


_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def _raise_translated(error: BaseException) -> NoReturn:
    """A 503 for an unreachable database; any other error without its values (nor its
    message, which `from None` keeps out of the logged traceback's chain)."""
    if driver_error_is_unavailable(error):
        raise unavailable_error(error) from error
    raise loggable_error(error).with_traceback(error.__traceback__) from None
