"""Refresh tokens stored as SHA-256 digests: revoke sessions still holding an Argon2 hash.

The service now stores and compares SHA-256 digests of refresh tokens. A live session
whose stored value is an Argon2 hash could only be refreshed by running Argon2 once more
while its row is locked, so it is revoked instead: its user logs in again once.

Revision ID: auth_0002
Revises: 0001
Create Date: 2026-12-01 00:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "auth_0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE user_sessions SET revoked_at = now()"
        " WHERE revoked_at IS NULL AND refresh_token_hash LIKE '$argon2%'"
    )


def downgrade() -> None:
    # The previous code verifies Argon2 hashes only; a digest would read as token reuse.
    op.execute(
        "UPDATE user_sessions SET revoked_at = now()"
        " WHERE revoked_at IS NULL AND refresh_token_hash NOT LIKE '$argon2%'"
    )
