"""What keeps the session cache honest, alone against the real database: the LISTEN
connection (`AuthCacheListener`), this process's own writes (`LocalWriteWatcher`) and
their wiring (`running_session_cache`).

The cache as requests see it, over HTTP, is tested in test_http_session_cache.py; across
workers and instances in tests/system/test_session_cache.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text

from app.auth.cache_listener import (
    APPLICATION_NAME,
    AuthCacheListener,
    LocalWriteWatcher,
    changes_authentication,
    running_session_cache,
)
from app.auth.models import UserSession
from app.auth.schemas import LoginRequest, RegisterRequest
from app.auth.session_cache import CachedCaller, SessionCache
from app.core.config import Settings
from tests.auth.conftest import CHROME_DEVICE, PASSWORD, AuthWiring, cached_caller

Sql = Callable[..., Any]
LISTENER_PID = (
    "SELECT pid FROM pg_stat_activity "
    "WHERE application_name = :name AND datname = current_database()"
)


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> bool:
    """Whether `condition()` holds within `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def put_all(cache: SessionCache, *callers: CachedCaller) -> None:
    for entry in callers:
        cache.put(entry, generation=cache.generation)


def trusted_cache(*callers: CachedCaller) -> SessionCache:
    cache = SessionCache(max_entries=100, ttl_seconds=3600)
    cache.trusted = True
    put_all(cache, *callers)
    return cache


async def live_session(wiring: AuthWiring, email: str) -> UserSession:
    """A real user's session, as authentication loads it."""
    async with wiring.unit_of_work() as service:
        await service.register(RegisterRequest(email=email, password=PASSWORD))
    login = LoginRequest(email=email, password=PASSWORD)
    pair = await wiring.standalone().login(login, device=CHROME_DEVICE)
    return (await wiring.authenticate(pair.access_token)).session


async def sessions_of_ada_and_bob(wiring: AuthWiring) -> tuple[UserSession, UserSession]:
    return (
        await live_session(wiring, "ada@example.com"),
        await live_session(wiring, "bob@example.com"),
    )


@asynccontextmanager
async def listening(cache: SessionCache, settings: Settings) -> AsyncIterator[AuthCacheListener]:
    listener = AuthCacheListener(cache, settings.database_url, connect_timeout=1)
    await listener.start()
    try:
        assert await eventually(lambda: cache.trusted), "the listener did not start"
        yield listener
    finally:
        await listener.aclose()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE user_sessions SET revoked_at=$1 WHERE user_sessions.id = $2",
        'UPDATE "user_sessions" SET expires_at = now() WHERE id = $1',
        "update user_sessions set user_id = $1 where id = $2",
        "UPDATE users SET is_active=false WHERE users.id = $1",
        "DELETE FROM users WHERE id = $1",
        "DELETE FROM user_sessions WHERE id IN (SELECT 1)",
        'TRUNCATE "users", "user_sessions" RESTART IDENTITY CASCADE',
    ],
)
def test_writes_that_can_end_a_session_or_change_its_user_change_authentication(
    statement: str,
) -> None:
    assert changes_authentication(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE user_sessions SET last_used_at=$1 WHERE user_sessions.id = $2",
        # A refresh's rotation: its FROM and WHERE name user_id, its SET does not.
        "UPDATE user_sessions SET previous_refresh_token_hash = user_sessions.refresh_token_hash,"
        " refresh_token_hash = $5, rotated_at = $6 FROM users WHERE user_sessions.user_id = $2",
        "INSERT INTO user_sessions (id, user_id) VALUES ($1, $2)",
        "SELECT revoked_at FROM user_sessions WHERE user_id = $1",
        "UPDATE items SET revoked_at = now() WHERE id = $1",
    ],
)
def test_reads_and_other_writes_do_not_change_authentication(statement: str) -> None:
    assert not changes_authentication(statement)


async def test_the_listener_trusts_the_cache_only_while_it_listens(settings: Settings) -> None:
    cache = SessionCache(max_entries=10, ttl_seconds=3600)
    assert cache.trusted is False
    async with listening(cache, settings):
        assert cache.trusted is True
    assert cache.trusted is False


async def test_a_revocation_in_the_database_drops_that_session_from_the_cache(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    mine, other = await sessions_of_ada_and_bob(auth_wiring)
    cache = SessionCache(max_entries=10, ttl_seconds=3600)
    async with listening(cache, auth_wiring.settings):
        put_all(cache, CachedCaller.of(mine), CachedCaller.of(other))
        await sql("UPDATE user_sessions SET revoked_at = now() WHERE id = :id", id=mine.id)
        assert await eventually(lambda: cache.get(mine.id) is None, within=1.0)
        assert cache.get(other.id) is not None


async def test_a_change_of_a_user_drops_every_cached_session_of_that_user(
    auth_wiring: AuthWiring, sql: Sql
) -> None:
    first, other = await sessions_of_ada_and_bob(auth_wiring)
    same_user = cached_caller(user_id=first.user_id)
    cache = SessionCache(max_entries=10, ttl_seconds=3600)
    async with listening(cache, auth_wiring.settings):
        put_all(cache, CachedCaller.of(first), same_user, CachedCaller.of(other))
        await sql("UPDATE users SET roles = ARRAY['admin'] WHERE id = :id", id=first.user_id)
        assert await eventually(lambda: len(cache) == 1, within=1.0)
        assert cache.get(other.id) is not None


async def test_a_lost_connection_empties_the_cache_before_it_is_trusted_again(
    settings: Settings, sql: Sql
) -> None:
    """Notifications sent while nobody listened are lost: nothing cached before counts."""
    cache = SessionCache(max_entries=10, ttl_seconds=3600)
    async with listening(cache, settings):
        kept = cached_caller()
        cache.put(kept, generation=cache.generation)
        [old] = await sql(LISTENER_PID, name=APPLICATION_NAME)
        await sql("SELECT pg_terminate_backend(:pid)", pid=old["pid"])
        assert await eventually(lambda: not cache.trusted, within=2.0)
        assert len(cache) == 0
        assert await eventually(lambda: cache.trusted)
        [new] = await sql(LISTENER_PID, name=APPLICATION_NAME)
        assert new["pid"] != old["pid"]
        assert cache.get(kept.session_id) is None


async def test_an_unreachable_database_leaves_the_cache_distrusted(
    make_settings: Callable[..., Settings], closed_port: int
) -> None:
    cache = SessionCache(max_entries=10, ttl_seconds=3600)
    settings = make_settings(POSTGRES_PORT=closed_port)
    listener = AuthCacheListener(cache, settings.database_url, connect_timeout=1)
    await listener.start()
    try:
        await asyncio.sleep(0.5)
        assert cache.trusted is False
    finally:
        await listener.aclose()


@asynccontextmanager
async def watching(cache: SessionCache, wiring: AuthWiring) -> AsyncIterator[None]:
    """A LocalWriteWatcher on the cache, attached to the wiring's engine for the block."""
    watcher = LocalWriteWatcher(cache)
    watcher.attach(wiring.engine.sync_engine)
    try:
        yield
    finally:
        watcher.detach(wiring.engine.sync_engine)


async def commit(wiring: AuthWiring, statement: str) -> None:
    async with wiring.engine.begin() as connection:
        await connection.execute(text(statement))


async def test_this_processs_own_revocation_empties_the_cache_at_its_commit(
    auth_wiring: AuthWiring,
) -> None:
    cache = trusted_cache(cached_caller(), cached_caller())
    async with watching(cache, auth_wiring):
        await commit(auth_wiring, "UPDATE user_sessions SET last_used_at = now() WHERE false")
        assert len(cache) == 2
        await commit(auth_wiring, "UPDATE user_sessions SET revoked_at = now() WHERE false")
        assert len(cache) == 0


async def test_a_revocation_rolled_back_leaves_the_cache_alone(auth_wiring: AuthWiring) -> None:
    cache = trusted_cache(cached_caller())
    async with watching(cache, auth_wiring), auth_wiring.engine.connect() as connection:
        await connection.execute(text("UPDATE users SET is_active = false WHERE false"))
        await connection.rollback()
        # The same connection's next commit is not dirty any more.
        await connection.execute(text("SELECT 1"))
        await connection.commit()
    assert len(cache) == 1


async def test_a_detached_watcher_no_longer_touches_the_cache(auth_wiring: AuthWiring) -> None:
    cache = trusted_cache(cached_caller())
    async with watching(cache, auth_wiring):
        pass
    await commit(auth_wiring, "UPDATE user_sessions SET revoked_at = now() WHERE false")
    assert len(cache) == 1


async def test_no_cache_runs_when_its_size_is_zero(
    auth_wiring: AuthWiring, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(AUTH_CACHE_MAX_ENTRIES=0)
    async with running_session_cache(settings, auth_wiring.engine) as cache:
        assert cache is None


async def test_the_running_cache_is_trusted_while_it_runs_and_sees_this_processs_writes(
    auth_wiring: AuthWiring,
) -> None:
    async with running_session_cache(auth_wiring.settings, auth_wiring.engine) as cache:
        assert cache is not None
        assert await eventually(lambda: cache.trusted)
        cache.put(cached_caller(), generation=cache.generation)
        await commit(auth_wiring, "UPDATE users SET roles = roles WHERE false")
        assert len(cache) == 0
    assert cache.trusted is False
    cache.trusted = True
    cache.put(cached_caller(), generation=cache.generation)
    await commit(auth_wiring, "UPDATE users SET roles = roles WHERE false")
    assert len(cache) == 1  # its watcher left with it
