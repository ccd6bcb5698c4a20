"""One unit of work per request: commit once at the end, roll back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


async def get_db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit if the endpoint returned, roll back if it raised."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


# scope="function": commit before the response is sent, so a failed commit is reported.
DbSessionDep = Annotated[AsyncSession, Depends(get_db_session, scope="function")]
