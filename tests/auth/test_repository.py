"""UserRepository and SessionRepository alone, against the real database: no service, no HTTP.

The repositories are built over the pieces the app builds (`auth_wiring`): a session of
the app's sessionmaker for the unit of work, the DriverPool for the autocommitted
statements. Their error translation seen through HTTP is tested in test_http_repository.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from app.auth.repository import (
    Credentials,
    EmailAlreadyRegisteredError,
    Rotation,
    SessionRepository,
    UserRepository,
)
from app.auth.session_cursor import SessionCursor
from app.core.http.schemas import SessionDeviceInfo
from app.db.postgres.session import committed
from tests.auth.conftest import CHROME_DEVICE, AuthWiring

Sql = Callable[..., Any]
HOUR = timedelta(hours=1)
OLD_DIGEST = "digest-of-the-current-token"
NEW_DIGEST = "digest-of-the-next-token"


@asynccontextmanager
async def repositories(
    wiring: AuthWiring,
) -> AsyncIterator[tuple[UserRepository, SessionRepository]]:
    """Both repositories over one unit of work, committed at the end, as a request has them."""
    async with committed(wiring.sessionmaker()) as db:
        yield UserRepository(db, wiring.driver), SessionRepository(db, wiring.driver)


async def new_user(wiring: AuthWiring, email: str = "ada@example.com") -> uuid.UUID:
    async with repositories(wiring) as (users, _):
        user = await users.add(email=email, password_hash="hash-of-" + email, full_name=None)
        return user.id


async def open_session(
    wiring: AuthWiring,
    user_id: uuid.UUID,
    *,
    digest: str = OLD_DIGEST,
    now: datetime | None = None,
    cap: int = 20,
    device: SessionDeviceInfo = CHROME_DEVICE,
) -> tuple[uuid.UUID, int]:
    """A new session of `user_id` opened at `now`; its id and how many older ones it evicted."""
    session_id, now = uuid.uuid4(), now or datetime.now(UTC)
    async with repositories(wiring) as (_, sessions):
        evicted = await sessions.open(
            session_id=session_id,
            user_id=user_id,
            refresh_token_hash=digest,
            device=device,
            now=now,
            expires_at=now + HOUR,
            cap=cap,
        )
    return session_id, evicted


async def rotate(wiring: AuthWiring, rotation: Rotation, new_hash: str = NEW_DIGEST) -> bool:
    async with repositories(wiring) as (_, sessions):
        return await sessions.rotate_if_current(rotation, new_hash=new_hash, now=datetime.now(UTC))


async def revoke(sessions: SessionRepository, session_id: uuid.UUID) -> None:
    assert await sessions.revoke(session_id, datetime.now(UTC))


async def revoke_and_commit(sessions: SessionRepository, session_id: uuid.UUID) -> None:
    await sessions.revoke_and_commit(session_id, datetime.now(UTC))


async def failing_after(
    wiring: AuthWiring, step: Callable[[SessionRepository], Awaitable[None]]
) -> None:
    """`step` in a unit of work that then fails (as a 401 after it would): LookupError."""
    async with repositories(wiring) as (_, sessions):
        await step(sessions)
        raise LookupError("the error that follows")


async def one_session(wiring: AuthWiring) -> Rotation:
    """A new user's session holding OLD_DIGEST, and the rotation its current token claims."""
    user_id = await new_user(wiring)
    session_id, _ = await open_session(wiring, user_id)
    return Rotation(session_id, user_id, ["user"], OLD_DIGEST)


async def session_row(sql: Sql, session_id: uuid.UUID) -> dict[str, Any]:
    [row] = await sql("SELECT * FROM user_sessions WHERE id = :id", id=session_id)
    return row


async def test_a_user_is_found_by_id_and_by_email(auth_wiring: AuthWiring) -> None:
    user_id = await new_user(auth_wiring)
    async with repositories(auth_wiring) as (users, _):
        by_id = await users.get(user_id)
        by_email = await users.get_by_email("ada@example.com")
        nobody = await users.get_by_email("nobody@example.com")
    assert by_id is not None
    assert by_email is not None
    assert (by_id.id, by_id.email, by_id.roles) == (user_id, "ada@example.com", ["user"])
    assert by_email.id == user_id
    assert nobody is None


async def test_adding_a_taken_email_is_email_already_registered(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    await new_user(auth_wiring)
    with pytest.raises(EmailAlreadyRegisteredError):
        await new_user(auth_wiring)
    assert len(await sql("SELECT id FROM users")) == 1


async def test_credentials_are_read_on_the_driver_pool(auth_wiring: AuthWiring, sql: Sql) -> None:
    user_id = await new_user(auth_wiring)
    await sql("UPDATE users SET roles = ARRAY['user', 'admin'], is_active = false")
    async with repositories(auth_wiring) as (users, _):
        found = await users.credentials("ada@example.com")
        missing = await users.credentials("nobody@example.com")
    assert found == Credentials(user_id, "hash-of-ada@example.com", ["user", "admin"], False)
    assert missing is None


async def test_a_repository_without_a_driver_pool_says_so(auth_wiring: AuthWiring) -> None:
    async with committed(auth_wiring.sessionmaker()) as db:
        with pytest.raises(RuntimeError, match="without a DriverPool"):
            await UserRepository(db).credentials("ada@example.com")


async def test_replace_password_hash_changes_that_users_row_only(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    ada, bob = await new_user(auth_wiring), await new_user(auth_wiring, "bob@example.com")
    async with repositories(auth_wiring) as (users, _):
        await users.replace_password_hash(ada, "a new hash")
    rows = await sql("SELECT id, password_hash FROM users")
    assert {row["id"]: row["password_hash"] for row in rows} == {
        ada: "a new hash",
        bob: "hash-of-bob@example.com",
    }


async def test_open_stores_the_session_and_its_device(auth_wiring: AuthWiring, sql: Sql) -> None:
    user_id = await new_user(auth_wiring)
    now = datetime.now(UTC)
    session_id, evicted = await open_session(auth_wiring, user_id, now=now)
    row = await session_row(sql, session_id)
    assert evicted == 0
    assert (row["user_id"], row["refresh_token_hash"]) == (user_id, OLD_DIGEST)
    assert (row["fingerprint"], row["device_type"], row["os"], row["browser"]) == (
        "desktop | macOS | Chrome",
        "desktop",
        "macOS",
        "Chrome",
    )
    assert row["created_at"] == row["last_used_at"] == now
    assert row["expires_at"] == now + HOUR
    assert row["revoked_at"] is None


async def test_open_cuts_oversize_device_values_to_their_columns(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    user_id = await new_user(auth_wiring)
    device = SessionDeviceInfo(user_agent="u" * 2000, os="o" * 500, app_version="9" * 80)
    session_id, _ = await open_session(auth_wiring, user_id, device=device)
    row = await session_row(sql, session_id)
    assert (row["user_agent"], row["os"], row["app_version"]) == ("u" * 512, "o" * 100, "9" * 50)


async def test_open_beyond_the_cap_revokes_the_users_oldest_live_sessions(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    ada, bob = await new_user(auth_wiring), await new_user(auth_wiring, "bob@example.com")
    start = datetime.now(UTC)
    bobs, _ = await open_session(auth_wiring, bob, now=start)
    opened = [
        await open_session(auth_wiring, ada, now=start + timedelta(seconds=i), cap=5)
        for i in range(4)
    ]
    newest, evicted = await open_session(auth_wiring, ada, now=start + timedelta(seconds=9), cap=2)
    assert [count for _, count in opened] == [0, 0, 0, 0]
    assert evicted == 3
    live = await sql("SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert {row["id"] for row in live} == {opened[-1][0], newest, bobs}


async def test_rotate_if_current_rotates_only_the_current_digest(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    current = await one_session(auth_wiring)
    session_id = current.session_id
    stale = replace(current, presented_hash="digest-of-an-older-token")
    assert await rotate(auth_wiring, stale) is False
    assert (await session_row(sql, session_id))["refresh_token_hash"] == OLD_DIGEST

    assert await rotate(auth_wiring, current)
    row = await session_row(sql, session_id)
    assert (row["refresh_token_hash"], row["previous_refresh_token_hash"]) == (
        NEW_DIGEST,
        OLD_DIGEST,
    )
    assert row["rotated_at"] == row["last_used_at"]
    assert row["rotated_at"] is not None
    # The digest just replaced is no longer current.
    assert await rotate(auth_wiring, current, "yet another digest") is False


@pytest.mark.parametrize(
    "ended",
    [
        "UPDATE user_sessions SET revoked_at = now()",
        "UPDATE user_sessions SET expires_at = now() - interval '1 second'",
        "UPDATE users SET is_active = false",
        "UPDATE users SET roles = ARRAY['user', 'admin']",
    ],
    ids=["revoked", "expired", "inactive-user", "roles-changed"],
)
async def test_rotate_if_current_leaves_a_session_it_should_not_rotate(
    auth_wiring: AuthWiring, sql: Sql, ended: str
) -> None:
    rotation = await one_session(auth_wiring)
    await sql(ended)
    assert await rotate(auth_wiring, rotation) is False
    assert (await session_row(sql, rotation.session_id))["refresh_token_hash"] == OLD_DIGEST


async def test_rotate_if_current_of_another_users_session_rotates_nothing(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    ada, bob = await new_user(auth_wiring), await new_user(auth_wiring, "bob@example.com")
    session_id, _ = await open_session(auth_wiring, ada)
    assert await rotate(auth_wiring, Rotation(session_id, bob, ["user"], OLD_DIGEST)) is False
    assert (await session_row(sql, session_id))["refresh_token_hash"] == OLD_DIGEST


async def test_of_concurrent_rotations_with_one_digest_exactly_one_wins(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    rotation = await one_session(auth_wiring)
    candidates = [f"digest-{i}" for i in range(6)]
    results = await asyncio.gather(*(rotate(auth_wiring, rotation, new) for new in candidates))
    assert sorted(results) == [False] * 5 + [True]
    winner = candidates[results.index(True)]
    row = await session_row(sql, rotation.session_id)
    assert (row["refresh_token_hash"], row["previous_refresh_token_hash"]) == (
        winner,
        OLD_DIGEST,
    )


async def test_rotate_if_current_declines_inside_a_begun_unit_of_work(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    """A lock that unit of work held would wait for the statement, and it for the lock."""
    rotation = await one_session(auth_wiring)
    async with repositories(auth_wiring) as (_, sessions):
        # Reading begins the unit of work's transaction.
        assert await sessions.get_with_user(rotation.session_id) is not None
        rotated = await sessions.rotate_if_current(
            rotation, new_hash=NEW_DIGEST, now=datetime.now(UTC)
        )
    assert rotated is False
    assert (await session_row(sql, rotation.session_id))["refresh_token_hash"] == OLD_DIGEST


async def test_the_row_lock_holds_back_a_rotation_until_its_unit_of_work_ends(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    rotation = await one_session(auth_wiring)
    session_id = rotation.session_id
    async with repositories(auth_wiring) as (_, sessions):
        locked = await sessions.get_with_user_for_update(session_id)
        assert locked is not None
        assert locked.user.email == "ada@example.com"  # loaded with the session
        waiting = asyncio.ensure_future(rotate(auth_wiring, rotation, "the waiting digest"))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await sessions.rotate_refresh_hash(locked, new_hash=NEW_DIGEST, now=datetime.now(UTC))
    # The lock's holder committed a new digest: the waiting rotation no longer matches.
    assert await waiting is False
    row = await session_row(sql, session_id)
    assert (row["refresh_token_hash"], row["previous_refresh_token_hash"]) == (
        NEW_DIGEST,
        OLD_DIGEST,
    )


async def test_revoke_ends_a_live_session_once_and_only_its_owners(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    ada, bob = await new_user(auth_wiring), await new_user(auth_wiring, "bob@example.com")
    session_id, _ = await open_session(auth_wiring, ada)
    now = datetime.now(UTC)
    async with repositories(auth_wiring) as (_, sessions):
        by_someone_else = await sessions.revoke(session_id, now, user_id=bob)
        by_its_owner = await sessions.revoke(session_id, now, user_id=ada)
        again = await sessions.revoke(session_id, now)
        unknown = await sessions.revoke(uuid.uuid4(), now)
    assert (by_someone_else, by_its_owner, again, unknown) == (False, True, False, False)
    assert (await session_row(sql, session_id))["revoked_at"] == now


async def test_revoke_all_of_user_keeps_the_one_named_and_counts_the_rest(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    ada, bob = await new_user(auth_wiring), await new_user(auth_wiring, "bob@example.com")
    kept, _ = await open_session(auth_wiring, ada)
    for _ in range(2):
        await open_session(auth_wiring, ada)
    bobs, _ = await open_session(auth_wiring, bob)
    async with repositories(auth_wiring) as (_, sessions):
        revoked = await sessions.revoke_all_of_user(ada, datetime.now(UTC), keep=kept)
        none_left = await sessions.revoke_all_of_user(ada, datetime.now(UTC), keep=kept)
    assert (revoked, none_left) == (2, 0)
    live = await sql("SELECT id FROM user_sessions WHERE revoked_at IS NULL")
    assert {row["id"] for row in live} == {kept, bobs}


async def test_revoke_and_commit_outlasts_the_unit_of_work_rolled_back_after_it(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    session_id = (await one_session(auth_wiring)).session_id
    with pytest.raises(LookupError):
        await failing_after(auth_wiring, partial(revoke_and_commit, session_id=session_id))
    assert (await session_row(sql, session_id))["revoked_at"] is not None


async def test_a_plain_revoke_is_rolled_back_with_its_unit_of_work(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    session_id = (await one_session(auth_wiring)).session_id
    with pytest.raises(LookupError):
        await failing_after(auth_wiring, partial(revoke, session_id=session_id))
    assert (await session_row(sql, session_id))["revoked_at"] is None


async def test_list_active_pages_live_sessions_most_recently_used_first(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    ada, bob = await new_user(auth_wiring), await new_user(auth_wiring, "bob@example.com")
    start = datetime.now(UTC) - timedelta(minutes=1)
    ids = [
        (await open_session(auth_wiring, ada, now=start + timedelta(seconds=i)))[0]
        for i in range(4)
    ]
    await open_session(auth_wiring, bob)
    await sql("UPDATE user_sessions SET revoked_at = now() WHERE id = :id", id=ids[1])
    now = datetime.now(UTC)
    async with repositories(auth_wiring) as (_, sessions):
        first = await sessions.list_active(ada, now, limit=2)
        after = SessionCursor(first[-1].last_used_at, first[-1].id)
        rest = await sessions.list_active(ada, now, limit=2, after=after)
    assert [s.id for s in first] == [ids[3], ids[2]]
    assert [s.id for s in rest] == [ids[0]]


async def test_touch_records_activity_at_most_once_per_interval(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    user_id = await new_user(auth_wiring)
    opened_at = datetime.now(UTC) - timedelta(minutes=5)
    session_id, _ = await open_session(auth_wiring, user_id, now=opened_at)
    soon, later = opened_at + timedelta(seconds=30), opened_at + timedelta(minutes=2)
    async with repositories(auth_wiring) as (_, sessions):
        await sessions.touch(session_id, soon, every=timedelta(minutes=1))
    assert (await session_row(sql, session_id))["last_used_at"] == opened_at
    async with repositories(auth_wiring) as (_, sessions):
        await sessions.touch(session_id, later, every=timedelta(minutes=1))
    assert (await session_row(sql, session_id))["last_used_at"] == later
