"""`prepare_database`: a reachable, created and migrated database before the app serves.

Where a server answers, the database is created on it if missing and migrated. Where
none answers, development starts an embedded PostgreSQL and prepares the database there
(the test points POSTGRES_PORT at a free port, so the shared server on 5432 is left
alone); any other environment refuses to start. `python -m app` with the embedded
server is tested end to end in tests/system/test_embedded_postgres.py.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.db.postgres.bootstrap import (
    ALEMBIC_INI,
    DatabaseUnavailableError,
    prepare_database,
    server_answers,
)
from tests.system.app_process import free_port


def migrations_head() -> str:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


async def _fetch(settings: Settings, query: str, *args: object) -> object:
    """One value from `query`, on the server's `postgres` database."""
    dsn = make_url(settings.database_server_url).set(drivername="postgresql")
    connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
    try:
        return await connection.fetchval(query, *args)
    finally:
        await connection.close()


def schema_version(settings: Settings) -> object:
    """The migration the database is at, and whether the auth tables are there."""
    dsn = make_url(settings.database_url).set(drivername="postgresql")

    async def read() -> object:
        connection = await asyncpg.connect(dsn.render_as_string(hide_password=False))
        try:
            version = await connection.fetchval("SELECT version_num FROM alembic_version")
            users = await connection.fetchval("SELECT to_regclass('users') IS NOT NULL")
            return version, users
        finally:
            await connection.close()

    return asyncio.run(read())


def drop_database(settings: Settings, name: str) -> None:
    asyncio.run(_fetch(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def database_exists(settings: Settings, name: str) -> bool:
    return asyncio.run(_fetch(settings, "SELECT 1 FROM pg_database WHERE datname = $1", name)) == 1


@pytest.fixture
def scratch_settings(make_settings: Callable[..., Settings]) -> Iterator[Settings]:
    """Settings naming a database that does not exist yet; dropped afterwards."""
    settings = make_settings()
    scratch = settings.model_copy(update={"POSTGRES_DB": f"{settings.POSTGRES_DB}_bootstrap"})
    drop_database(settings, scratch.POSTGRES_DB)
    try:
        yield scratch
    finally:
        drop_database(settings, scratch.POSTGRES_DB)


def test_server_answers_only_where_a_server_listens(settings: Settings) -> None:
    assert server_answers(settings.POSTGRES_HOST, settings.POSTGRES_PORT)
    assert not server_answers("127.0.0.1", free_port())
    assert not server_answers("/nonexistent-socket-directory", 5432)


def test_a_missing_database_is_created_and_migrated_on_the_server_that_answers(
    scratch_settings: Settings,
) -> None:
    assert not database_exists(scratch_settings, scratch_settings.POSTGRES_DB)
    prepared, embedded = prepare_database(scratch_settings)
    assert embedded is None
    assert prepared == scratch_settings  # the server it was given
    assert schema_version(prepared) == (migrations_head(), True)
    # Preparing again leaves a prepared database as it is.
    assert prepare_database(scratch_settings) == (scratch_settings, None)
    assert schema_version(prepared) == (migrations_head(), True)


def test_outside_development_no_answer_is_an_error_and_nothing_is_started(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    port = free_port()
    settings = make_settings(
        ENVIRONMENT="production",
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=port,
        POSTGRES_EMBEDDED_DIR=tmp_path / "embedded",
    )
    with pytest.raises(DatabaseUnavailableError, match=f"127.0.0.1:{port}"):
        prepare_database(settings)
    assert not (tmp_path / "embedded").exists()


def _pid_of(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def _stop_left_running(data_dir: Path) -> None:
    """Stop an embedded server the test left running (PostgreSQL's fast shutdown)."""
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = _pid_of(data_dir)
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 15
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.fixture
def embedded_dir() -> Iterator[Path]:
    """A data directory outside pytest's tree (the server runs as another user)."""
    data_dir = Path(tempfile.mkdtemp(prefix="embedded-postgres-bootstrap-")) / "data"
    try:
        yield data_dir
    finally:
        _stop_left_running(data_dir)
        shutil.rmtree(data_dir.parent, ignore_errors=True)


@pytest.mark.slow
def test_in_development_with_no_server_an_embedded_one_is_started_and_prepared(
    make_settings: Callable[..., Settings], embedded_dir: Path
) -> None:
    settings = make_settings(
        ENVIRONMENT="development",
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=free_port(),  # nothing answers there
        POSTGRES_EMBEDDED_DIR=embedded_dir,
    )
    prepared, embedded = prepare_database(settings)
    assert embedded is not None
    try:
        assert embedded.data_dir == embedded_dir.resolve()
        assert (embedded.keep, embedded.pid) == (False, _pid_of(embedded_dir))
        # The settings now point at the embedded server, with the same database name.
        assert (prepared.POSTGRES_HOST, prepared.POSTGRES_PORT) == (embedded.host, embedded.port)
        assert prepared.POSTGRES_DB == settings.POSTGRES_DB
        assert server_answers(prepared.POSTGRES_HOST, prepared.POSTGRES_PORT)
        assert schema_version(prepared) == (migrations_head(), True)
    finally:
        embedded.stop()
    assert not (embedded_dir / "postmaster.pid").exists()  # stopped: it does not outlive us
    assert not server_answers(prepared.POSTGRES_HOST, prepared.POSTGRES_PORT)
