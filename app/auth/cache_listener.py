"""Keeps a `SessionCache` honest: database notifications and this process's own writes.

`AuthCacheListener` holds one asyncpg connection per process that LISTENs on
`auth_cache` (the channel migration speed_0004's triggers notify). The cache is trusted only
while that connection is up and listening; when it is lost, or stops answering the
periodic check, the cache is emptied and distrusted, and the listener reconnects with
a growing delay. A silent network cut is caught by that check within
`check_interval + check_timeout` seconds; the cache's TTL bounds the rest.

`LocalWriteWatcher` drops the cache when this process commits a statement that changes
what authentication reads, so our own logout is visible to our next request without
waiting for the notification to come back.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.session_cache import SessionCache
from app.core.config import Settings
from app.core.logger import get_logger

logger = get_logger("app.auth.cache_listener")

CHANNEL = "auth_cache"
APPLICATION_NAME = "auth_cache_listener"


class AuthCacheListener:
    """One LISTEN connection per process, reconnecting; trusts the cache only while up."""

    def __init__(
        self,
        cache: SessionCache,
        database_url: str,
        *,
        connect_timeout: float,
        check_interval: float = 5.0,
        check_timeout: float = 2.0,
        max_backoff: float = 5.0,
    ) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._cache = cache
        self._connect_timeout = connect_timeout
        self._check_interval = check_interval
        self._check_timeout = check_timeout
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()

    async def start(self) -> None:
        """Connect in the background; the cache stays distrusted until LISTEN succeeds."""
        self._task = asyncio.create_task(self._run(), name="auth-cache-listener")

    async def aclose(self) -> None:
        self._cache.trusted = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen_until_lost()
                delay = 0.1
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as e:
                logger.warning("auth_cache_listener_down", extra={"error": type(e).__name__})
            self._distrust()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_backoff)

    async def _listen_until_lost(self) -> None:
        self._lost.clear()
        connection: asyncpg.Connection[Any] = await asyncpg.connect(
            self._dsn,
            timeout=self._connect_timeout,
            server_settings={"application_name": APPLICATION_NAME},
        )
        try:
            connection.add_termination_listener(self._on_termination)
            await connection.add_listener(CHANNEL, self._on_notification)
            self._cache.clear()  # anything cached before may have missed notifications
            self._cache.trusted = True
            logger.info("auth_cache_listener_up")
            while not self._lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._lost.wait(), self._check_interval)
                if not self._lost.is_set():
                    await connection.fetchval("SELECT 1", timeout=self._check_timeout)
        finally:
            self._distrust()
            connection.terminate()

    def _distrust(self) -> None:
        if self._cache.trusted:
            logger.warning("auth_cache_distrusted")
        self._cache.trusted = False
        self._cache.clear()

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self._cache.invalidate(payload)

    def _on_termination(self, _connection: Any) -> None:
        self._distrust()
        self._lost.set()


# The SET list of an UPDATE, and the statements that change what authentication reads.
_SESSION_UPDATE = re.compile(
    r"^\s*UPDATE\s+\"?user_sessions\"?\s+SET\s+(.*?)\s+WHERE\s", re.I | re.S
)
_SESSION_COLUMNS = re.compile(r"\b(revoked_at|expires_at|user_id)\b", re.I)
_OTHER_CHANGES = re.compile(
    r"^\s*(UPDATE\s+\"?users\"?\s|DELETE\s+FROM\s+\"?(users|user_sessions)\"?\s|TRUNCATE\s)", re.I
)
_DIRTY = "auth_cache_dirty"


def changes_authentication(statement: str) -> bool:
    """True for SQL that can end a session or change its user (what the triggers watch)."""
    update = _SESSION_UPDATE.match(statement)
    if update is not None:
        return _SESSION_COLUMNS.search(update[1]) is not None
    return _OTHER_CHANGES.match(statement) is not None


class LocalWriteWatcher:
    """Drops the cache when this process commits a change that authentication reads."""

    def __init__(self, cache: SessionCache) -> None:
        self._cache = cache

    def attach(self, engine: Engine) -> None:
        event.listen(engine, "after_cursor_execute", self._after_execute)
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "rollback", self._on_rollback)

    def detach(self, engine: Engine) -> None:
        event.remove(engine, "after_cursor_execute", self._after_execute)
        event.remove(engine, "commit", self._on_commit)
        event.remove(engine, "rollback", self._on_rollback)

    def _after_execute(self, conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if changes_authentication(statement):
            conn.info[_DIRTY] = True

    def _on_commit(self, conn: Connection) -> None:
        # Fired just before COMMIT: a concurrent lookup may still read the old row and
        # store it, but the trigger's notification, sent at COMMIT, drops it again.
        if not conn.invalidated and conn.info.pop(_DIRTY, False):
            self._cache.clear()

    def _on_rollback(self, conn: Connection) -> None:
        if not conn.invalidated:  # an invalidated connection has no `info` to clean
            conn.info.pop(_DIRTY, None)


@contextlib.asynccontextmanager
async def running_session_cache(
    settings: Settings, engine: AsyncEngine
) -> AsyncIterator[SessionCache | None]:
    """The process's session cache, kept honest for as long as the block runs.

    None when AUTH_CACHE_MAX_ENTRIES is 0: every request then reads the database.
    """
    if settings.AUTH_CACHE_MAX_ENTRIES == 0:
        yield None
        return
    cache = SessionCache(
        max_entries=settings.AUTH_CACHE_MAX_ENTRIES, ttl_seconds=settings.AUTH_CACHE_TTL_SECONDS
    )
    watcher = LocalWriteWatcher(cache)
    watcher.attach(engine.sync_engine)
    listener = AuthCacheListener(
        cache, settings.database_url, connect_timeout=settings.POSTGRES_CONNECT_TIMEOUT_SECONDS
    )
    await listener.start()
    try:
        yield cache
    finally:
        await listener.aclose()
        watcher.detach(engine.sync_engine)
