"""How long a WebSocket may stay open: until its session ends or its access token expires.

The handshake authenticates once; a connection can then outlive the session that
opened it (logout, revocation, deactivation) by hours. `SessionWatch` re-checks the
session every `check_every` seconds, each time in a short transaction of its own
(no pooled connection is held between checks), and returns the moment the token's
`exp` passes whatever the checks say. A check the database cannot answer
(ServiceUnavailableError) keeps the connection until the next check; `exp` still
bounds it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from app.core.exceptions import AppHTTPException, AuthenticationError
from app.core.logger import get_logger

logger = get_logger("app.auth.session_watch")

TOKEN_EXPIRED = "token expired"  # noqa: S105  (a close reason, not a secret)


@dataclass(frozen=True, slots=True)
class SessionWatch:
    """Waits until the session behind one access token ends; the reason it ended."""

    expires_at: float  # the access token's `exp`, in epoch seconds
    check_every: float
    # Raises AuthenticationError once the session is no longer live.
    check: Callable[[], Awaitable[object]]
    clock: Callable[[], float] = field(default=time.time)

    async def wait_until_ended(self) -> str:
        while True:
            remaining = self.expires_at - self.clock()
            if remaining <= 0:
                return TOKEN_EXPIRED
            await asyncio.sleep(min(self.check_every, remaining))
            if self.clock() >= self.expires_at:
                return TOKEN_EXPIRED
            try:
                await self.check()
            except AuthenticationError as e:
                return e.detail
            except AppHTTPException as e:  # the database is down: exp still bounds the wait
                logger.warning("websocket_session_check_failed", extra={"reason": e.detail})
