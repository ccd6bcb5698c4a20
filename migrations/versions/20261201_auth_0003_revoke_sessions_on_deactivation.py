"""Deactivating a user revokes its sessions, whoever flips `users.is_active`.

There is no admin route: accounts are deactivated by operators in SQL or by other
services. A trigger is the one place every path goes through. It revokes with a plain
UPDATE of `user_sessions.revoked_at`, so anything watching that column (caches,
notifications) sees it like any other revocation, and reactivating the user later
revives none of the old tokens.

Revision ID: auth_0003
Revises: auth_0002
Create Date: 2026-12-01 00:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "auth_0003"
down_revision: str | None = "auth_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION auth_revoke_sessions_of_deactivated_user() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE user_sessions SET revoked_at = now()
            WHERE user_id = NEW.id AND revoked_at IS NULL;
            RETURN NULL;
        END;
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER users_deactivated_revoke_sessions
        AFTER UPDATE OF is_active ON users
        FOR EACH ROW WHEN (OLD.is_active AND NOT NEW.is_active)
        EXECUTE FUNCTION auth_revoke_sessions_of_deactivated_user()
        """
    )
    # Users deactivated before this revision keep no live session either.
    op.execute(
        "UPDATE user_sessions SET revoked_at = now() FROM users"
        " WHERE users.id = user_sessions.user_id AND NOT users.is_active"
        " AND user_sessions.revoked_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER users_deactivated_revoke_sessions ON users")
    op.execute("DROP FUNCTION auth_revoke_sessions_of_deactivated_user()")
