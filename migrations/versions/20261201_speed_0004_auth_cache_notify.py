"""Notify listeners when a session or a user changes in a way a cached caller must see.

Every process keeps recently authenticated callers in memory (app/auth/session_cache.py)
and LISTENs on `auth_cache`. These triggers NOTIFY from the database itself, so every
writer (a request, a CLI command, a migration, psql) invalidates the caches without
knowing about them. The payload names what changed: `s:<session id>`, `u:<user id>`,
or `*` (a table was truncated). NOTIFY is delivered at commit, never for a rollback.

Only the columns that decide whether a session authenticates, and what it returns,
fire the session trigger: the `last_used_at` touch and refresh rotation do not.

Revision ID: speed_0004
Revises: auth_0003
Create Date: 2026-12-01 00:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "speed_0004"
down_revision: str | None = "auth_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION auth_cache_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'TRUNCATE' THEN
                PERFORM pg_notify('auth_cache', '*');
            ELSIF TG_TABLE_NAME = 'users' THEN
                PERFORM pg_notify('auth_cache', 'u:' || OLD.id::text);
            ELSE
                PERFORM pg_notify('auth_cache', 's:' || OLD.id::text);
            END IF;
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER user_sessions_auth_cache
        AFTER UPDATE OF revoked_at, expires_at, user_id OR DELETE ON user_sessions
        FOR EACH ROW EXECUTE FUNCTION auth_cache_notify()
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_auth_cache
        AFTER UPDATE OR DELETE ON users
        FOR EACH ROW EXECUTE FUNCTION auth_cache_notify()
        """
    )
    for table in ("users", "user_sessions"):
        op.execute(
            f"CREATE TRIGGER {table}_auth_cache_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION auth_cache_notify()"
        )


def downgrade() -> None:
    for table in ("users", "user_sessions"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_auth_cache_truncate ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_auth_cache ON {table}")
    op.execute("DROP FUNCTION IF EXISTS auth_cache_notify()")
