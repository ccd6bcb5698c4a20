"""Database access for users and sessions: the only auth module that speaks SQL.

Every method runs inside the request's unit of work (it flushes, never commits) and
translates driver errors: a duplicate email becomes `EmailAlreadyRegisteredError`, a
database that cannot be reached a 503 (`app.db.postgres.errors.translated_errors`).
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, and_, or_, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.elements import ColumnElement

from app.auth.models import User, UserSession
from app.auth.session_cursor import SessionCursor
from app.core.http.schemas import SessionDeviceInfo
from app.db.postgres.driver import DriverConnection, DriverPool
from app.db.postgres.errors import translated_errors
from app.db.postgres.session import SessionOnDemand, committed

EMAIL_UNIQUE_CONSTRAINT = "uq_users_email"


def _column_lengths(model: type[UserSession]) -> dict[str, int]:
    """The length of each bounded text column of `model`'s table."""
    return {
        column.name: column.type.length
        for column in model.__table__.columns
        if isinstance(column.type, String) and column.type.length is not None
    }


# Session metadata comes from client headers; each value is cut to its column's length
# here, where the columns are known, so no header can make an INSERT fail.
SESSION_COLUMN_LENGTHS = _column_lengths(UserSession)


def _fit(column: str, value: str | None) -> str | None:
    return None if value is None else value[: SESSION_COLUMN_LENGTHS[column]]


class EmailAlreadyRegisteredError(Exception):
    """The normalised email belongs to an existing account."""


async def commit_translated(db: AsyncSession) -> None:
    """Commit a unit of work opened outside the request's; a lost database is a 503."""
    async with translated_errors():
        await db.commit()


class _Repository:
    """A repository over one AsyncSession (the request's unit of work, or one of its own).

    The hot statements of login and refresh run on `driver` instead (autocommitted, see
    `app.db.postgres.driver`); a repository built without one (the CLI) has no use for it.
    """

    def __init__(
        self, db: AsyncSession | SessionOnDemand, driver: DriverPool | None = None
    ) -> None:
        self._source = SessionOnDemand.of(db)
        self._driver = driver

    @property
    def _db(self) -> AsyncSession:
        return self._source.session

    def unit_of_work(self) -> AbstractAsyncContextManager[AsyncSession]:
        """The repository's session as a unit of work that commits and closes itself."""
        return committed(self._db)

    def _driver_connection(self) -> AbstractAsyncContextManager[DriverConnection]:
        if self._driver is None:
            raise RuntimeError(f"{type(self).__name__} was built without a DriverPool")
        return self._driver.connection()


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a login checks of an account, read without the ORM."""

    user_id: uuid.UUID
    password_hash: str
    roles: list[str]
    is_active: bool


_CREDENTIALS = "SELECT id, password_hash, roles, is_active FROM users WHERE email = $1"


class UserRepository(_Repository):
    """Users by id and by (normalised) email."""

    async def add(self, *, email: str, password_hash: str, full_name: str | None) -> User:
        user = User(email=email, password_hash=password_hash, full_name=full_name)
        self._db.add(user)
        try:
            async with translated_errors():
                await self._db.flush()
        except sa_exc.IntegrityError as e:
            if EMAIL_UNIQUE_CONSTRAINT in str(e.orig):
                raise EmailAlreadyRegisteredError from e
            raise
        return user

    async def get(self, user_id: uuid.UUID) -> User | None:
        async with translated_errors():
            return await self._db.get(User, user_id)

    async def get_by_email(self, email: str) -> User | None:
        async with translated_errors():
            result = await self._db.execute(select(User).where(User.email == email))
        return result.scalar_one_or_none()

    async def credentials(self, email: str) -> Credentials | None:
        """The account's id, hash, roles and state, on a pooled connection of its own.

        One autocommitted SELECT, its connection back in the pool before the caller
        waits for Argon2.
        """
        async with self._driver_connection() as connection:
            row = await connection.fetchrow(_CREDENTIALS, email)
        if row is None:
            return None
        return Credentials(row["id"], row["password_hash"], list(row["roles"]), row["is_active"])

    async def end_read(self) -> None:
        """End the unit of work's transaction so its connection goes back to the pool.

        Called after reading and before waiting for an Argon2 thread: a request queued
        for the hash pool must not hold a pooled connection (or an open transaction)
        that other requests are waiting for. Loaded objects stay usable; the next
        statement begins a new transaction. Nothing has been written at that point, so
        the commit only ends the read.
        """
        async with translated_errors():
            await self._db.commit()

    async def replace_password_hash(self, user_id: uuid.UUID, password_hash: str) -> None:
        """Store a new password hash for the user (a plain UPDATE of its row)."""
        statement = (
            update(User)
            .where(User.id == user_id)
            .values(password_hash=password_hash)
            .execution_options(synchronize_session=False)
        )
        async with translated_errors():
            await self._db.execute(statement)


# Written out once and run by asyncpg (app.db.postgres.driver): built with the ORM per
# request, the statement and its execution cost more CPU than the round trip.
# `previous_refresh_token_hash` takes the value the row had before this UPDATE. Only the
# session row is locked (FROM rows are not).
_ROTATE_IF_CURRENT = """
UPDATE user_sessions
SET previous_refresh_token_hash = user_sessions.refresh_token_hash,
    refresh_token_hash = $5, rotated_at = $6, last_used_at = $6
FROM users
WHERE user_sessions.id = $1 AND user_sessions.user_id = $2
  AND user_sessions.refresh_token_hash = $4
  AND user_sessions.revoked_at IS NULL AND user_sessions.expires_at > $6
  AND users.id = user_sessions.user_id AND users.is_active AND users.roles = $3
"""


# A login's session and the session cap in one statement. The INSERT in the WITH runs
# whether or not its rows are read; the UPDATE's snapshot does not see the new row, so
# it keeps the newest `$13` (cap - 1) of the others.
_OPEN_CAPPED = """
WITH opened AS (
    INSERT INTO user_sessions (
        id, user_id, refresh_token_hash, fingerprint, user_agent, ip_address, device_type,
        os, browser, app_version, created_at, last_used_at, expires_at
    ) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)
)
UPDATE user_sessions SET revoked_at = $11
WHERE revoked_at IS NULL AND id IN (
    SELECT id FROM user_sessions
    WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $11
    ORDER BY created_at DESC, id DESC
    OFFSET $13
)
"""


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a refresh token claims: its session, user and roles, and its digest."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    roles: list[str]
    presented_hash: str


class SessionRepository(_Repository):
    """Login sessions: creation, lookup, atomic refresh rotation, revocation."""

    async def open(
        self,
        *,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        refresh_token_hash: str,
        device: SessionDeviceInfo,
        now: datetime,
        expires_at: datetime,
        cap: int,
    ) -> int:
        """Store a new session and revoke the user's oldest beyond `cap`; how many were.

        One autocommitted statement on a pooled connection (`_OPEN_CAPPED`): the session
        exists, and the user has at most `cap` live ones, as soon as it returns.
        """
        device_type = device.device_type
        async with self._driver_connection() as connection:
            status = await connection.execute(
                _OPEN_CAPPED,
                session_id,
                user_id,
                refresh_token_hash,
                _fit("fingerprint", device.fingerprint()),
                _fit("user_agent", device.user_agent),
                _fit("ip_address", device.ip_address),
                _fit("device_type", device_type.value if device_type else None),
                _fit("os", device.os),
                _fit("browser", device.browser),
                _fit("app_version", device.app_version),
                now,
                expires_at,
                max(cap - 1, 0),  # the new session is one of the `cap`
                operation="INSERT",
            )
        return int(status.rpartition(" ")[2])

    async def get_with_user(self, session_id: uuid.UUID) -> UserSession | None:
        """The session and its user in one query."""
        query = (
            select(UserSession)
            .options(joinedload(UserSession.user))
            .where(UserSession.id == session_id)
        )
        async with translated_errors():
            result = await self._db.execute(query)
        return result.scalar_one_or_none()

    async def list_active(
        self,
        user_id: uuid.UUID,
        now: datetime,
        *,
        limit: int,
        after: SessionCursor | None = None,
    ) -> list[UserSession]:
        """Up to `limit` live sessions, most recently used first, starting after `after`."""
        query = select(UserSession).where(
            UserSession.user_id == user_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
        )
        if after is not None:
            query = query.where(
                or_(
                    UserSession.last_used_at < after.last_used_at,
                    and_(
                        UserSession.last_used_at == after.last_used_at,
                        UserSession.id > after.session_id,
                    ),
                )
            )
        query = query.order_by(UserSession.last_used_at.desc(), UserSession.id).limit(limit)
        async with translated_errors():
            result = await self._db.execute(query)
        return list(result.scalars())

    async def rotate_if_current(self, rotation: Rotation, *, new_hash: str, now: datetime) -> bool:
        """Rotate in one autocommitted UPDATE if the presented token is the current one.

        The common refresh: the session is live, its user active with the roles the
        token claims, and the presented digest is the stored one. Then a single
        conditional UPDATE (no BEGIN, no SELECT, no COMMIT round trip, no ORM objects)
        rotates it. PostgreSQL locks the row for the UPDATE and re-checks the WHERE of a
        waiting UPDATE after the first commits, so of concurrent refreshes with one token
        exactly one matches. False when nothing matched (a stale or reused token, an
        ended session, changed roles, a pre-digest hash): the caller then takes the
        locked path, which tells these apart. Runs on a pooled connection of its own,
        autocommitted, and only while the request's unit of work has not begun (a lock
        that unit of work held would wait for this statement, and it for the lock).
        """
        if self._source.in_transaction():
            return False
        async with self._driver_connection() as connection:
            status = await connection.execute(
                _ROTATE_IF_CURRENT,
                rotation.session_id,
                rotation.user_id,
                rotation.roles,
                rotation.presented_hash,
                new_hash,
                now,
            )
        return status == "UPDATE 1"

    async def get_with_user_for_update(self, session_id: uuid.UUID) -> UserSession | None:
        """The session and its user, its row locked until the request's transaction ends.

        Refreshes of one session serialise here: the second waits for the first to
        commit, then reads the rotated hash. Only the session row is locked (`of=`),
        so the user row stays free for everyone else.
        """
        query = (
            select(UserSession)
            .options(joinedload(UserSession.user, innerjoin=True))
            .where(UserSession.id == session_id)
            .with_for_update(of=UserSession)
        )
        async with translated_errors():
            result = await self._db.execute(query)
        return result.scalar_one_or_none()

    async def rotate_refresh_hash(
        self, session: UserSession, *, new_hash: str, now: datetime
    ) -> None:
        """Replace the refresh-token hash of a session locked by `get_with_user_for_update`."""
        session.previous_refresh_token_hash = session.refresh_token_hash
        session.refresh_token_hash = new_hash
        session.rotated_at = now
        session.last_used_at = now
        async with translated_errors():
            await self._db.flush()

    async def revoke(
        self, session_id: uuid.UUID, now: datetime, *, user_id: uuid.UUID | None = None
    ) -> bool:
        """Revoke a live session (of `user_id`, when given); False if there was none."""
        conditions = [UserSession.id == session_id]
        if user_id is not None:
            conditions.append(UserSession.user_id == user_id)
        return bool(await self._revoke_where(now, *conditions))

    async def revoke_all_of_user(
        self, user_id: uuid.UUID, now: datetime, *, keep: uuid.UUID | None = None
    ) -> int:
        """Revoke every live session of the user (but `keep`); how many were revoked."""
        conditions = [UserSession.user_id == user_id]
        if keep is not None:
            conditions.append(UserSession.id != keep)
        return len(await self._revoke_where(now, *conditions))

    async def _revoke_where(
        self, now: datetime, *conditions: ColumnElement[bool]
    ) -> list[uuid.UUID]:
        """Revoke the unrevoked sessions matching `conditions`; their ids.

        Every revocation is this one plain UPDATE of `revoked_at`, so whatever watches
        the column (a trigger, a cache) sees them all alike.
        """
        statement = (
            update(UserSession)
            .where(UserSession.revoked_at.is_(None), *conditions)
            .values(revoked_at=now)
            .returning(UserSession.id)
            .execution_options(synchronize_session=False)
        )
        async with translated_errors():
            result = await self._db.execute(statement)
        return list(result.scalars())

    async def revoke_and_commit(self, session_id: uuid.UUID, now: datetime) -> None:
        """Revoke and commit the request's transaction now, before the caller answers 401.

        The 401 that follows rolls the unit of work back; committing first makes the
        revocation survive it, on the connection that already holds the row lock,
        instead of a second connection that would wait for that lock.
        """
        await self.revoke(session_id, now)
        async with translated_errors():
            await self._db.commit()

    async def touch(self, session_id: uuid.UUID, now: datetime, *, every: timedelta) -> None:
        """Record activity, at most once per `every`, so reads rarely cost a write."""
        statement = (
            update(UserSession)
            .where(UserSession.id == session_id, UserSession.last_used_at < now - every)
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
        async with translated_errors():
            await self._db.execute(statement)
