"""The ORM base: one metadata whose naming convention names every constraint and index.

Named constraints are what a later migration drops or alters by name; the names the
database holds must be the ones the models predict.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer, String, Table, text
from sqlalchemy.ext.asyncio import AsyncEngine

import app.auth.models  # noqa: F401  (registers the tables on Base.metadata)
from app.db.postgres.base import Base

CONSTRAINTS = text(
    "SELECT conname FROM pg_constraint WHERE conrelid = CAST(CAST(:table AS text) AS regclass)"
    " UNION SELECT indexname FROM pg_indexes WHERE tablename = CAST(:table AS text)"
)


async def names_in_database(engine: AsyncEngine, table: str) -> set[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(CONSTRAINTS, {"table": table})
        return set(rows.scalars())


@pytest.fixture
async def probe_table(engine: AsyncEngine) -> AsyncIterator[Table]:
    """A table of every constraint kind, on Base.metadata and in the database, then gone."""
    table = Table(
        "naming_probe",
        Base.metadata,
        Column("id", Integer, primary_key=True),
        Column("code", String(10), unique=True),
        Column("kind", String(10), index=True),
        Column("parent_id", Integer, ForeignKey("naming_probe.id")),
        Column("amount", Integer),
        CheckConstraint("amount > 0", name="positive"),
    )
    try:
        async with engine.begin() as connection:
            await connection.run_sync(table.create)
        yield table
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(table.drop, checkfirst=True)
        Base.metadata.remove(table)


async def test_every_kind_of_constraint_is_named_by_the_convention(
    engine: AsyncEngine, probe_table: Table
) -> None:
    assert await names_in_database(engine, probe_table.name) == {
        "pk_naming_probe",
        "uq_naming_probe_code",
        "ix_naming_probe_kind",
        "fk_naming_probe_parent_id_naming_probe",
        "ck_naming_probe_positive",
    }


async def test_the_migrated_tables_hold_the_names_the_models_predict(engine: AsyncEngine) -> None:
    assert Base.metadata.tables  # the models' tables are on the one shared metadata
    for table in Base.metadata.sorted_tables:
        predicted = {constraint.name for constraint in table.constraints}
        predicted |= {index.name for index in table.indexes}
        in_database = await names_in_database(engine, table.name)
        assert predicted <= in_database, (table.name, predicted - in_database)
