"""PostgreSQL: the AsyncEngine factory, the session unit of work and the ORM base."""

from app.db.postgres.base import Base
from app.db.postgres.engine import create_database_engine
from app.db.postgres.errors import database_error_handler
from app.db.postgres.session import DbSessionDep, get_db_session

__all__ = [
    "Base",
    "DbSessionDep",
    "create_database_engine",
    "database_error_handler",
    "get_db_session",
]
