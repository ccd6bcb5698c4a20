"""The migration and the ORM models describe the same schema."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

import app.auth.models  # noqa: F401  (registers the tables)
from app.core.config import Settings
from app.db.postgres.base import Base
from app.db.postgres.bootstrap import ensure_database, migrate


async def test_migrated_schema_matches_the_models(settings: Settings) -> None:
    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection)
        return list(compare_metadata(context, Base.metadata))

    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert diff == []


LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


async def _drop_database(settings: Settings, name: str) -> None:
    engine = create_async_engine(settings.database_server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


async def test_refresh_digest_migration_revokes_only_sessions_holding_an_argon2_hash(
    settings: Settings,
) -> None:
    name = f"{settings.POSTGRES_DB}_digest_migration"
    scratch = settings.model_copy(update={"POSTGRES_DB": name})
    await _drop_database(settings, name)
    await ensure_database(settings, name)
    engine = create_async_engine(scratch.database_url)
    try:
        await asyncio.to_thread(migrate, scratch.database_url, "0001")
        user_id, legacy, digested, ended = (uuid.uuid4() for _ in range(4))
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO users (id, email, password_hash) VALUES (:id, 'a@b.c', 'x')"),
                {"id": user_id},
            )
            for session_id, stored, revoked in (
                (legacy, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", None),
                (digested, "0" * 64, None),
                (ended, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", LONG_AGO),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO user_sessions (id, user_id, refresh_token_hash, expires_at,"
                        " revoked_at) VALUES (:id, :user_id, :stored, now() + interval '1 day', :revoked)"
                    ),
                    {"id": session_id, "user_id": user_id, "stored": stored, "revoked": revoked},
                )
        await asyncio.to_thread(migrate, scratch.database_url, "auth_0002")
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT id, revoked_at FROM user_sessions"))
            revoked_at = {row.id: row.revoked_at for row in rows}
    finally:
        await engine.dispose()
        await _drop_database(settings, name)
    assert revoked_at[legacy] is not None
    assert revoked_at[digested] is None
    assert revoked_at[ended] == LONG_AGO
