"""An instrumented engine on the test database, for the tests of app.db.postgres."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.db.postgres.engine import create_database_engine


@pytest.fixture
async def engine(make_settings: Callable[..., Settings]) -> AsyncIterator[AsyncEngine]:
    built = create_database_engine(make_settings(POSTGRES_POOL_SIZE=4, POSTGRES_MAX_OVERFLOW=2))
    try:
        yield built
    finally:
        await built.dispose()
