"""Users and sessions from the command line, through the auth domain's repositories.

One transaction per command, committed at the end: the same unit of work a request gets.
A revoked session's tokens stop working at once, as after `DELETE /api/auth/sessions/{id}`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.models import User
from app.auth.repository import EmailAlreadyRegisteredError, SessionRepository, UserRepository
from app.auth.schemas import Email
from app.core.config import Settings
from app.core.security import PasswordSecurity
from app.db.postgres import create_database_engine

_EMAIL: TypeAdapter[str] = TypeAdapter(Email)


class AccountError(Exception):
    """A command that cannot be carried out; its message is shown to the operator."""


def normalised_email(email: str) -> str:
    """The address as the API stores it (`normalize_email`), or AccountError."""
    try:
        return _EMAIL.validate_python(email)
    except ValueError as e:
        raise AccountError(f"not an email address: {email!r}") from e


@asynccontextmanager
async def unit_of_work(settings: Settings) -> AsyncIterator[AsyncSession]:
    engine = create_database_engine(settings)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as db, db.begin():
            yield db
    finally:
        await engine.dispose()


async def create_user(
    settings: Settings,
    *,
    email: str,
    password: str,
    roles: Sequence[str],
    full_name: str | None = None,
) -> User:
    """A new account with `roles`; the password policy is the API's."""
    address = normalised_email(email)
    passwords = PasswordSecurity.from_settings(settings)
    try:
        passwords.check_policy(password)
    except ValueError as e:
        raise AccountError(str(e)) from e
    password_hash = await passwords.hash_password_async(password)
    async with unit_of_work(settings) as db:
        users = UserRepository(db)
        try:
            user = await users.add(email=address, password_hash=password_hash, full_name=full_name)
        except EmailAlreadyRegisteredError as e:
            raise AccountError(f"{address} is already registered") from e
        user.roles = list(dict.fromkeys(roles))
        await db.flush()
    return user


async def revoke_session(settings: Settings, session_id: uuid.UUID) -> None:
    """Revoke one live session."""
    async with unit_of_work(settings) as db:
        if not await SessionRepository(db).revoke(session_id, datetime.now(UTC)):
            raise AccountError(f"no live session {session_id}")


async def revoke_user_sessions(settings: Settings, email: str) -> int:
    """Revoke every live session of the user with `email`; how many there were."""
    address = normalised_email(email)
    now = datetime.now(UTC)
    async with unit_of_work(settings) as db:
        user = await UserRepository(db).get_by_email(address)
        if user is None:
            raise AccountError(f"no user {address}")
        return await SessionRepository(db).revoke_all_of_user(user.id, now)
