"""Statements run on a pooled connection's asyncpg connection, without SQLAlchemy's layers.

For the hot path of a frequent endpoint whose statement is fixed text: checked out of
the engine's pool (its size, timeout, recycling and invalidation stay in charge), run
by asyncpg directly (prepared once per connection, by asyncpg's statement cache), each
statement its own transaction. Against the same statement through an AsyncSession this
saves about 100 µs of CPU per request: the session and its transaction, the execution
context and the result wrappers.

Errors are those of the unit of work: a database that cannot be reached is a 503 (and
the connection is invalidated, so the pool does not hand it out again), any other
database error is logged without values (`loggable_error`). Timings go to
db_postgres_query_duration_seconds as for every other statement.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from time import perf_counter
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db.postgres.engine import observe_statement, statement_operation
from app.db.postgres.errors import (
    driver_error_is_unavailable,
    loggable_error,
    translated_errors,
    unavailable_error,
)


class DriverConnection:
    """One checked-out connection's asyncpg side, timing what it runs."""

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


@asynccontextmanager
async def driver_connection(engine: AsyncEngine) -> AsyncIterator[DriverConnection]:
    """A connection from `engine`'s pool, in autocommit, returned to the pool at the end."""
    async with translated_errors():
        connection = await engine.connect()
    try:
        raw = await connection.get_raw_connection()
        yield DriverConnection(raw.driver_connection)
    except asyncpg.PostgresError as e:
        if driver_error_is_unavailable(e):
            await connection.invalidate()
            raise unavailable_error(e) from e
        raise loggable_error(e).with_traceback(e.__traceback__) from None
    except (asyncpg.InterfaceError, OSError, TimeoutError) as e:
        await connection.invalidate()
        raise unavailable_error(e) from e
    finally:
        await connection.close()
