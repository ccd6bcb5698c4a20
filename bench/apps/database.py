"""The benchmark's database (`<POSTGRES_DB>_bench`, bench/apps/settings.py), afresh.

Dropped, then created and migrated by the service's own bootstrap, the step `python -m
app` takes before its workers start: every run starts from the same empty tables.
"""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.db.postgres.bootstrap import prepare_database


async def _drop_database(settings: Settings) -> None:
    dsn = make_url(settings.database_server_url).set(drivername="postgresql")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        quoted = '"' + settings.POSTGRES_DB.replace('"', '""') + '"'
        await connection.execute(f"DROP DATABASE IF EXISTS {quoted}")
    finally:
        await connection.close()


def fresh_database(settings: Settings) -> None:
    """Drop the benchmark's database, then let the service create and migrate it."""
    asyncio.run(_drop_database(settings))
    prepare_database(settings)
