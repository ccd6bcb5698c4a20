"""Which database failures become a 503, against the real PostgreSQL.

An unreachable server, a connection the server ended, and no pooled connection in time
are a 503 problem+json ("database unavailable"); a fault in the request or our SQL (a
unique violation) stays an error for the caller, and reaches the client as a 500 that
logs the constraint but not the row's values.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.config import Settings
from app.core.errors import ServiceUnavailableError
from app.db.postgres.engine import create_database_engine
from app.db.postgres.errors import (
    DATABASE_UNAVAILABLE,
    DatabaseError,
    is_database_unavailable,
    loggable_error,
    translated_errors,
)
from app.db.postgres.session import DbSessionDep
from tests.system.app_process import free_port

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
SECRET = "secret-value-4711"  # stands for a row's value: an email, a password hash
INSERT = text("INSERT INTO errors_probe (code) VALUES (:code)")


@pytest.fixture
async def probe_table(engine: AsyncEngine) -> AsyncIterator[str]:
    """A table with a unique column, holding one row whose code is SECRET."""
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS errors_probe"))
        await connection.execute(
            text("CREATE TABLE errors_probe (code text CONSTRAINT uq_errors_probe_code UNIQUE)")
        )
        await connection.execute(INSERT, {"code": SECRET})
    try:
        yield "errors_probe"
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DROP TABLE errors_probe"))


async def test_a_unique_violation_is_left_to_the_caller(
    engine: AsyncEngine, probe_table: str
) -> None:
    with pytest.raises(sa_exc.IntegrityError) as raised:
        async with translated_errors(), engine.begin() as connection:
            await connection.execute(INSERT, {"code": SECRET})
    assert not is_database_unavailable(raised.value)


async def test_a_unique_violation_is_logged_by_its_constraint_not_its_values(
    engine: AsyncEngine, probe_table: str
) -> None:
    with pytest.raises(sa_exc.IntegrityError) as raised:
        async with engine.begin() as connection:
            await connection.execute(INSERT, {"code": SECRET})
    logged = str(loggable_error(raised.value))
    driver_error = raised.value.orig.__cause__  # asyncpg's, under SQLAlchemy's adapter
    assert SECRET in str(getattr(driver_error, "detail", ""))  # PostgreSQL's text has it...
    assert SECRET not in logged  # ...what we log does not
    for part in (
        "IntegrityError",
        "UniqueViolationError",
        "sqlstate=23505",
        "constraint_name=uq_errors_probe_code",
        f"table_name={probe_table}",
        "SQL: INSERT INTO errors_probe (code) VALUES ($1)",
    ):
        assert part in logged, logged


async def test_an_unreachable_server_is_a_503(make_settings: Callable[..., Settings]) -> None:
    nowhere = create_database_engine(
        make_settings(
            POSTGRES_HOST="127.0.0.1",
            POSTGRES_PORT=free_port(),
            POSTGRES_CONNECT_TIMEOUT_SECONDS=1,
        )
    )
    try:
        with pytest.raises(ServiceUnavailableError) as raised:
            async with translated_errors(), nowhere.connect() as connection:
                await connection.execute(text("SELECT 1"))
    finally:
        await nowhere.dispose()
    assert raised.value.status_code == 503
    assert raised.value.detail == DATABASE_UNAVAILABLE
    assert is_database_unavailable(raised.value.__cause__)  # type: ignore[arg-type]


async def test_a_connection_the_server_ended_is_a_503(engine: AsyncEngine) -> None:
    with pytest.raises(ServiceUnavailableError) as raised:
        async with translated_errors(), engine.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
    assert isinstance(raised.value.__cause__, sa_exc.DBAPIError)
    async with engine.connect() as connection:  # the pool carries on with a new connection
        assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1


async def test_no_pooled_connection_in_time_is_a_503(
    make_settings: Callable[..., Settings],
) -> None:
    small = create_database_engine(
        make_settings(
            POSTGRES_POOL_SIZE=1, POSTGRES_MAX_OVERFLOW=0, POSTGRES_POOL_TIMEOUT_SECONDS=0.2
        )
    )
    try:
        async with small.connect() as held:
            await held.execute(text("SELECT 1"))
            with pytest.raises(ServiceUnavailableError) as raised:
                async with translated_errors(), small.connect():
                    pass
    finally:
        await small.dispose()
    assert isinstance(raised.value.__cause__, sa_exc.TimeoutError)


# --- through the app: the handler create_app registers for SQLAlchemyError -------------


def _log_text(log_dir: Path) -> str:
    return "\n".join(path.read_text() for path in sorted(log_dir.glob("*.json")))


async def test_a_request_whose_connection_the_server_ended_is_answered_503_problem(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], Any]
) -> None:
    async def ended(session: DbSessionDep) -> None:
        await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    async with make_client() as client:
        app_of(client).add_api_route("/test/ended", ended)
        response = await client.get("/test/ended")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "retry-after" in response.headers
    body = response.json()
    assert (body["status"], body["detail"]) == (503, DATABASE_UNAVAILABLE)


async def test_a_request_breaking_a_constraint_is_a_500_without_the_rows_values(
    make_client: ClientFactory,
    app_of: Callable[[httpx.AsyncClient], Any],
    probe_table: str,
    tmp_path: Path,
) -> None:
    async def duplicate(session: DbSessionDep) -> None:
        await session.execute(INSERT, {"code": SECRET})

    log_dir = tmp_path / "error-logs"
    async with make_client(LOG_DIR=log_dir) as client:
        app_of(client).add_api_route("/test/duplicate", duplicate, methods=["POST"])
        response = await client.post("/test/duplicate")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert SECRET not in response.text
    assert "uq_errors_probe_code" not in response.text  # a 500 shows no exception text
    logged = _log_text(log_dir)
    errors = [json.loads(line) for line in logged.splitlines() if "uq_errors_probe_code" in line]
    assert errors, "the failure was not logged with its constraint"
    assert {error["extra"]["exception_type"] for error in errors} == {DatabaseError.__name__}
    assert SECRET not in logged
