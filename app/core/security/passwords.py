"""Argon2id password hashing that keeps the event loop free.

Argon2id is memory-hard on purpose: one hash holds `memory_cost_kib` of RAM and tens of
milliseconds of CPU. Run inline on the event loop it stalls every other request, so the
async methods hand the work to a small dedicated thread pool (argon2-cffi releases the
GIL while hashing). The pool's size is the concurrency bound: a login flood queues
behind `concurrency` hashes instead of allocating memory for all of them at once, and a
queued hash whose request is cancelled never runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.security.common_passwords import is_common_password, prepare_common_passwords

if TYPE_CHECKING:
    from app.core.config import Settings

T = TypeVar("T")

# OWASP Password Storage Cheat Sheet minimums for Argon2id; Settings enforces the same floors.
OWASP_TIME_COST = 2
OWASP_MEMORY_COST_KIB = 19_456
OWASP_PARALLELISM = 1


HASHING_THREAD_NICENESS = 10


def _yield_cpu_to_loop() -> None:
    """Lower this hashing thread's CPU priority below the loop's (Linux: nice is per thread).

    Releasing the GIL is not enough when hashes and the event loop share a core: the
    scheduler gives each runnable thread an equal share, so two hashing threads left
    the loop a third of the core (`make bench`: the trivial endpoint's p99 at 88 ms).
    At nice 10 the loop gets about 90% of a contended core; logins take longer only
    while the CPU is saturated.
    """
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    with contextlib.suppress(OSError):
        niceness = os.getpriority(os.PRIO_PROCESS, thread) + HASHING_THREAD_NICENESS
        os.setpriority(os.PRIO_PROCESS, thread, min(niceness, 19))


def _is_surrogate(char: str) -> bool:
    """Lone surrogates (valid in JSON, not in UTF-8) cannot be hashed."""
    return "\ud800" <= char <= "\udfff"


class PasswordPolicyError(ValueError):
    """A password is refused before hashing; the message says why (never the password)."""


class PasswordSecurity:
    """Hashes and verifies passwords with Argon2id (refresh tokens use `token_digest`).

    The sync methods block for one full hash; call them from threads or scripts. Code on
    the event loop uses the `*_async` methods.
    """

    def __init__(
        self,
        *,
        time_cost: int = OWASP_TIME_COST,
        memory_cost_kib: int = OWASP_MEMORY_COST_KIB,
        parallelism: int = OWASP_PARALLELISM,
        min_length: int = 8,
        max_length: int = 128,
        concurrency: int = 2,
    ) -> None:
        if min_length > max_length:
            raise ValueError("min_length must not exceed max_length")
        self.min_length = min_length
        self.max_length = max_length
        self.concurrency = concurrency
        self._hasher = PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_cost_kib,
            parallelism=parallelism,
            hash_len=32,
            salt_len=16,
            type=Type.ID,
        )
        self._executor = ThreadPoolExecutor(
            max_workers=concurrency, thread_name_prefix="argon2", initializer=_yield_cpu_to_loop
        )
        # Verifying an unknown user's login against this costs what a real verify costs.
        self.dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        # Build the common-password set off the event loop before the first registration.
        prepare_common_passwords()
        # Argon2 runs since construction (hashes and verifies; the dummy's excluded),
        # counted from the hashing threads: what a use case really costs.
        self._runs = 0
        self._runs_lock = threading.Lock()

    @property
    def argon2_runs(self) -> int:
        """How many Argon2 hashes and verifies this instance has run."""
        return self._runs

    def _count_run(self) -> None:
        with self._runs_lock:
            self._runs += 1

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordSecurity:
        return cls(
            time_cost=settings.ARGON2_TIME_COST,
            memory_cost_kib=settings.ARGON2_MEMORY_COST_KIB,
            parallelism=settings.ARGON2_PARALLELISM,
            min_length=settings.PASSWORD_MIN_LENGTH,
            max_length=settings.PASSWORD_MAX_LENGTH,
            concurrency=settings.PASSWORD_HASH_CONCURRENCY,
        )

    def check_policy(self, password: str) -> None:
        """Refuse a password that is too short, too long, blank or common, without hashing it.

        Only the length, blankness and common-password list are checked (NIST SP 800-63B):
        no rules about character classes, which make passwords harder to remember, not
        to guess.
        """
        if len(password) < self.min_length:
            raise PasswordPolicyError(
                f"password is too short: at least {self.min_length} characters"
            )
        if len(password) > self.max_length:
            raise PasswordPolicyError(f"password is too long: at most {self.max_length} characters")
        if not password.isprintable() and any(_is_surrogate(char) for char in password):
            raise PasswordPolicyError("password is not valid Unicode text")
        if password.isspace():
            raise PasswordPolicyError("password must not be only spaces")
        if is_common_password(password):
            raise PasswordPolicyError(
                "password is too common: it is on a list of passwords attackers try first; "
                "choose a less common one"
            )

    def generate_password_hash(self, password: str) -> str:
        self._count_run()
        return self._hasher.hash(password)

    def verify_password(self, plain: str, hashed: str) -> bool:
        """True only if `plain` matches; a mismatch or a malformed hash gives False."""
        self._count_run()
        try:
            return self._hasher.verify(hashed, plain)
        except (VerificationError, InvalidHashError, UnicodeEncodeError):
            return False

    def needs_rehash(self, hashed: str) -> bool:
        """True when `hashed` was made with other parameters (or is not ours at all)."""
        try:
            return self._hasher.check_needs_rehash(hashed)
        except (InvalidHashError, ValueError):
            return True

    def close(self) -> None:
        """Stop the hashing threads: queued hashes are dropped, one under way finishes."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _offload(self, function: Callable[..., T], *args: str) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, function, *args)

    async def hash_password_async(self, password: str) -> str:
        return await self._offload(self.generate_password_hash, password)

    async def verify_password_async(self, plain: str, hashed: str) -> bool:
        return await self._offload(self.verify_password, plain, hashed)
