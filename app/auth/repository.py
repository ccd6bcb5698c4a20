"""Database access for users and sessions: the only auth module that speaks SQL.

Every method runs inside the request's unit of work (it flushes, never commits) and
translates driver errors: a duplicate email becomes `EmailAlreadyRegisteredError`, a
database that cannot be reached a 503 (`app.db.postgres.errors.translated_errors`).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.auth.models import User, UserSession
from app.core.http.schemas import SessionDeviceInfo
from app.db.postgres.errors import translated_errors

EMAIL_UNIQUE_CONSTRAINT = "uq_users_email"


class EmailAlreadyRegisteredError(Exception):
    """The normalised email belongs to an existing account."""


class UserRepository:
    """Users by id and by (normalised) email."""

    def __init__(self, db: AsyncSession) -> None:
        self._db = db

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

    async def set_password_hash(self, user: User, password_hash: str) -> None:
        user.password_hash = password_hash
        async with translated_errors():
            await self._db.flush()


class SessionRepository:
    """Login sessions: creation, lookup, atomic refresh rotation, revocation."""

    def __init__(self, db: AsyncSession) -> None:
        self._db = db

    async def add(
        self,
        *,
        session_id: uuid.UUID,
        user_id: uuid.UUID,
        refresh_token_hash: str,
        device: SessionDeviceInfo,
        now: datetime,
        expires_at: datetime,
    ) -> UserSession:
        device_type = device.device_type
        session = UserSession(
            id=session_id,
            user_id=user_id,
            refresh_token_hash=refresh_token_hash,
            fingerprint=device.fingerprint(),
            user_agent=device.user_agent,
            ip_address=device.ip_address,
            device_type=device_type.value if device_type is not None else None,
            os=device.os,
            browser=device.browser,
            app_version=device.app_version,
            created_at=now,
            last_used_at=now,
            expires_at=expires_at,
        )
        self._db.add(session)
        async with translated_errors():
            await self._db.flush()
        return session

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

    async def list_active(self, user_id: uuid.UUID, now: datetime) -> list[UserSession]:
        query = (
            select(UserSession)
            .where(
                UserSession.user_id == user_id,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .order_by(UserSession.last_used_at.desc(), UserSession.id)
        )
        async with translated_errors():
            result = await self._db.execute(query)
        return list(result.scalars())

    async def rotate_refresh_hash(
        self, session_id: uuid.UUID, *, expected_hash: str, new_hash: str, now: datetime
    ) -> bool:
        """Swap the refresh-token hash only if it is still `expected_hash` (compare-and-set).

        The conditional UPDATE is the atomic step: of two refreshes racing with the same
        token, the second waits for the first one's row lock, then finds the hash changed
        and updates nothing. False means the token was rotated meanwhile, or the session
        was revoked or expired.
        """
        statement = (
            update(UserSession)
            .where(
                UserSession.id == session_id,
                UserSession.refresh_token_hash == expected_hash,
                UserSession.revoked_at.is_(None),
                UserSession.expires_at > now,
            )
            .values(
                refresh_token_hash=new_hash,
                previous_refresh_token_hash=expected_hash,
                rotated_at=now,
                last_used_at=now,
            )
            .returning(UserSession.id)
            .execution_options(synchronize_session=False)
        )
        async with translated_errors():
            result = await self._db.execute(statement)
        return result.scalar_one_or_none() is not None

    async def revoke(
        self, session_id: uuid.UUID, now: datetime, *, user_id: uuid.UUID | None = None
    ) -> bool:
        """Revoke a live session (of `user_id`, when given); False if there was none."""
        conditions = [UserSession.id == session_id, UserSession.revoked_at.is_(None)]
        if user_id is not None:
            conditions.append(UserSession.user_id == user_id)
        statement = (
            update(UserSession)
            .where(*conditions)
            .values(revoked_at=now)
            .returning(UserSession.id)
            .execution_options(synchronize_session=False)
        )
        async with translated_errors():
            result = await self._db.execute(statement)
        return result.scalar_one_or_none() is not None

    async def revoke_outside_request(self, session_id: uuid.UUID, now: datetime) -> None:
        """Revoke in a transaction of its own, committed at once.

        Reuse detection answers 401, which rolls the request's unit of work back; the
        revocation must survive that, so it does not ride on the request's transaction.
        """
        async with (
            translated_errors(),
            AsyncSession(self._db.bind, expire_on_commit=False) as own,
            own.begin(),
        ):
            await SessionRepository(own).revoke(session_id, now)

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
