"""One unit of work per request: commit once at the end, roll back on error.

COMMIT is a database step like any other: a database lost there is a 503 (see
`app.db.postgres.errors`). A rollback on a connection that is already gone must not
replace the error that made the request fail, so its own connection errors are dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.postgres.errors import is_database_unavailable, translated_errors


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit if the endpoint returned, roll back if it raised."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with committed(sessionmaker()) as session:
        yield session


@asynccontextmanager
async def committed(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """A unit of work on `session`: commit if the block returns, roll back if it raises.

    The session is closed either way (its connection goes back to the pool). A session
    made with `autobegin=False` is begun here: only a unit of work may use it.
    """
    try:
        if not session.sync_session.autobegin and not session.in_transaction():
            await session.begin()  # an autobegin session begins on first use, for free
        yield session
    except BaseException:
        await _rollback(session)
        raise
    else:
        async with translated_errors():
            await session.commit()
    finally:
        await session.close()


async def _rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception as e:
        if not is_database_unavailable(e):
            raise


# scope="function": commit before the response is sent, so a failed commit is reported.
DbSessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]


class SessionOnDemand:
    """The AsyncSession a use case's repositories share, made when one of them first needs it.

    Login and refresh mostly run autocommitted statements on the driver pool and never
    touch a session; building one per request anyway cost about 30 µs.
    """

    __slots__ = ("_make", "_session")

    def __init__(self, make: Callable[[], AsyncSession]) -> None:
        self._make = make
        self._session: AsyncSession | None = None

    @classmethod
    def of(cls, session: AsyncSession | SessionOnDemand) -> SessionOnDemand:
        """`session` as it is, or a session made already (the request's unit of work)."""
        if isinstance(session, SessionOnDemand):
            return session
        source = cls(lambda: session)
        source._session = session
        return source

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self._make()
        return self._session

    def in_transaction(self) -> bool:
        """Whether the session exists and has begun a transaction (never makes it)."""
        return self._session is not None and self._session.in_transaction()
