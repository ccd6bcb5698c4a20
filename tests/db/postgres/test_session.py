"""The unit of work and the session made on demand, against the real database."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.db.postgres.session import SessionOnDemand, committed


async def test_a_session_on_demand_is_made_once_and_only_when_used(engine: AsyncEngine) -> None:
    made: list[AsyncSession] = []

    def make() -> AsyncSession:
        made.append(AsyncSession(engine, autobegin=False))
        return made[-1]

    source = SessionOnDemand(make)
    assert not source.in_transaction()
    assert made == []  # asking about a transaction makes no session

    async with committed(source.session) as session:
        assert source.in_transaction()
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    assert source.session is made[0]
    assert len(made) == 1
    assert not source.in_transaction()


async def test_a_session_made_already_is_shared_as_it_is(engine: AsyncEngine) -> None:
    async with AsyncSession(engine) as session:
        source = SessionOnDemand.of(session)
        assert source.session is session
        await session.execute(text("SELECT 1"))
        assert source.in_transaction()


async def test_the_unit_of_work_rolls_back_when_the_block_raises(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE IF NOT EXISTS uow_probe (n int)"))
        await connection.execute(text("TRUNCATE uow_probe"))

    async def failing_unit_of_work() -> None:
        async with committed(AsyncSession(engine, autobegin=False)) as session:
            await session.execute(text("INSERT INTO uow_probe VALUES (1)"))
            raise RuntimeError("the endpoint failed")

    try:
        with pytest.raises(RuntimeError):
            await failing_unit_of_work()
        async with committed(AsyncSession(engine, autobegin=False)) as session:
            await session.execute(text("INSERT INTO uow_probe VALUES (2)"))
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT n FROM uow_probe"))).scalars().all()
        assert rows == [2]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE uow_probe"))
