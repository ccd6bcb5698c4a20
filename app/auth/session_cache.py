"""Recently authenticated callers, kept in process so most requests skip the database.

An entry is what authenticating a session found: the session's lifetime and last
activity, and the user fields endpoints read (`/me` returns them). It is trusted only
while this process hears every change that could make it wrong:

- The database NOTIFYs `auth_cache` when a session is revoked, expires early, is
  deleted, or when its user changes at all (roles, deactivation, deletion): triggers
  of migration speed_0004, so every writer invalidates, whatever code path it takes.
  `AuthCacheListener` (cache_listener.py) applies those notifications.
- While the listener is not connected and listening, `get` answers nothing, so every
  request reads the database; on each (re)connection the cache starts empty, since
  notifications sent meanwhile were lost.
- Writes made by this process drop the cache at their commit (`LocalWriteWatcher`), so a
  logout is seen by the very next request here without waiting for the notification.
- A lookup that raced with an invalidation is not stored (`generation`), and entries
  expire after a short TTL anyway: a safety net, not the mechanism.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

from app.auth.models import UserSession


@dataclass(frozen=True, slots=True)
class CachedCaller:
    """A live session and its user as authentication loaded them, and what is checked."""

    session_id: uuid.UUID
    user_id: uuid.UUID
    last_used_at: datetime
    expires_at: datetime
    # The loaded rows, detached from their closed database session, shared by every
    # request this entry answers: read-only. Code that changes a user or a session
    # goes through the repositories by id, as the auth service does.
    session: UserSession

    @classmethod
    def of(cls, session: UserSession) -> CachedCaller:
        return cls(
            session_id=session.id,
            user_id=session.user_id,
            last_used_at=session.last_used_at,
            expires_at=session.expires_at,
            session=session,
        )


class SessionCache:
    """A bounded LRU of `CachedCaller` by session id, with a TTL and user-wide drops."""

    def __init__(self, *, max_entries: int, ttl_seconds: float) -> None:
        self._entries: OrderedDict[uuid.UUID, tuple[float, CachedCaller]] = OrderedDict()
        self._by_user: dict[uuid.UUID, set[uuid.UUID]] = {}
        self._max_entries = max_entries
        self._ttl = ttl_seconds
        self._monotonic = time.monotonic
        self.trusted = False
        # Bumped by every invalidation: a lookup that saw another value must not store.
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, session_id: uuid.UUID) -> CachedCaller | None:
        if not self.trusted:
            return None
        found = self._entries.get(session_id)
        if found is None:
            return None
        stored_at, caller = found
        if self._monotonic() - stored_at > self._ttl:
            self._drop(session_id)
            return None
        self._entries.move_to_end(session_id)
        return caller

    def put(self, caller: CachedCaller, *, generation: int) -> None:
        """Store `caller` unless anything was invalidated since `generation` was read."""
        if not self.trusted or generation != self.generation:
            return
        self._drop(caller.session_id)
        self._entries[caller.session_id] = (self._monotonic(), caller)
        self._by_user.setdefault(caller.user_id, set()).add(caller.session_id)
        while len(self._entries) > self._max_entries:
            oldest = next(iter(self._entries))
            self._drop(oldest)

    def touched(self, caller: CachedCaller, last_used_at: datetime) -> None:
        """Record the activity just written, keeping the entry's age."""
        found = self._entries.get(caller.session_id)
        if found is not None and found[1] is caller:
            self._entries[caller.session_id] = (
                found[0],
                replace(caller, last_used_at=last_used_at),
            )

    def invalidate(self, payload: str) -> None:
        """Apply one `auth_cache` notification: `s:<session>`, `u:<user>` or `*`."""
        self.generation += 1
        kind, _, ident = payload.partition(":")
        try:
            key = uuid.UUID(ident) if ident else None
        except ValueError:
            key = None
        if key is None:
            self.clear()
        elif kind == "s":
            self._drop(key)
        elif kind == "u":
            for session_id in list(self._by_user.get(key, ())):
                self._drop(session_id)
        else:
            self.clear()

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_user.clear()

    def _drop(self, session_id: uuid.UUID) -> None:
        found = self._entries.pop(session_id, None)
        if found is None:
            return
        user_id = found[1].user_id
        sessions = self._by_user.get(user_id)
        if sessions is not None:
            sessions.discard(session_id)
            if not sessions:
                del self._by_user[user_id]
