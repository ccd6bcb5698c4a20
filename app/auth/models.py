"""Auth tables: `users` and their login sessions, `user_sessions`.

A session is one login on one device. Every token carries its id (`sid`), so revoking
the row ends the session's access tokens at once and its refresh token for good. Only
a SHA-256 digest of the current refresh token is stored; the digest of the one it replaced
and the rotation time are kept to tell a benign race (within the grace period) from reuse.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ARRAY,
    Boolean,
    DateTime,
    ForeignKey,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.postgres.base import Base

EMAIL_MAX_LENGTH = 320  # RFC 3696 errata: 64 local + @ + 255 domain
FULL_NAME_MAX_LENGTH = 200
DEFAULT_ROLES = ("user",)


class User(Base):
    """An account; `email` is stored normalised (trimmed, lower-cased) and unique."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(String(FULL_NAME_MAX_LENGTH))
    roles: Mapped[list[str]] = mapped_column(
        ARRAY(String(50)), server_default=text("ARRAY['user']::varchar[]")
    )
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    # Fetch server-side defaults (created_at, roles, updated_at) with RETURNING: an
    # expired attribute would otherwise need a lazy load, which async sessions forbid.
    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012  (read once by the mapper)


class UserSession(Base):
    """One login: its device, refresh-token hash, activity and lifetime."""

    __tablename__ = "user_sessions"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    refresh_token_hash: Mapped[str] = mapped_column(Text)
    previous_refresh_token_hash: Mapped[str | None] = mapped_column(Text)
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    fingerprint: Mapped[str | None] = mapped_column(String(255))
    user_agent: Mapped[str | None] = mapped_column(String(512))
    ip_address: Mapped[str | None] = mapped_column(String(45))  # textual IPv6 max
    device_type: Mapped[str | None] = mapped_column(String(20))
    os: Mapped[str | None] = mapped_column(String(100))
    browser: Mapped[str | None] = mapped_column(String(100))
    app_version: Mapped[str | None] = mapped_column(String(50))

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_used_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(lazy="raise")

    __mapper_args__ = {"eager_defaults": True}  # noqa: RUF012  (read once by the mapper)

    def is_active_at(self, now: datetime) -> bool:
        """Not revoked and not past its expiry."""
        return self.revoked_at is None and self.expires_at > now
