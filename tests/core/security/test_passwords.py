"""PasswordSecurity: Argon2id with the configured parameters, policy, and off-loop hashing."""

from __future__ import annotations

import asyncio
import os
import sys
import threading

import pytest
from argon2 import PasswordHasher, Type

from app.core.config import Settings
from app.core.security import PasswordPolicyError, PasswordSecurity
from app.core.security.passwords import HASHING_THREAD_NICENESS


@pytest.fixture(scope="module")
def security() -> PasswordSecurity:
    return PasswordSecurity.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]


def test_hash_is_argon2id_with_owasp_parameters(security: PasswordSecurity) -> None:
    hashed = security.generate_password_hash("correct horse")
    assert hashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert security.verify_password("correct horse", hashed)
    assert not security.verify_password("correct horsE", hashed)


def test_parameters_come_from_settings() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, ARGON2_TIME_COST=3, ARGON2_MEMORY_COST_KIB=20_000, ARGON2_PARALLELISM=2
    )
    hashed = PasswordSecurity.from_settings(settings).generate_password_hash("pw-123456")
    assert hashed.startswith("$argon2id$v=19$m=20000,t=3,p=2$")


def test_salts_differ(security: PasswordSecurity) -> None:
    assert security.generate_password_hash("same") != security.generate_password_hash("same")


@pytest.mark.parametrize("hashed", ["", "not-a-hash", "$argon2id$v=19$m=19456,t=2,p=1$xx$yy"])
def test_malformed_hash_verifies_false(security: PasswordSecurity, hashed: str) -> None:
    assert security.verify_password("anything", hashed) is False


def test_unencodable_password_verifies_false(security: PasswordSecurity) -> None:
    assert security.verify_password("\ud800abc", security.dummy_hash) is False


def test_needs_rehash_when_parameters_change(security: PasswordSecurity) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    assert security.needs_rehash(weaker.hash("pw"))
    assert not security.needs_rehash(security.generate_password_hash("pw"))
    assert security.needs_rehash("garbage")


def test_dummy_hash_matches_the_parameters(security: PasswordSecurity) -> None:
    """Login failures for unknown users verify against it: same cost as a real hash."""
    assert security.dummy_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not security.needs_rehash(security.dummy_hash)
    assert not security.verify_password("", security.dummy_hash)


def test_argon2_runs_counts_every_hash_and_verify(security: PasswordSecurity) -> None:
    before = security.argon2_runs
    hashed = security.generate_password_hash("pw-1234567")
    security.verify_password("pw-1234567", hashed)
    security.verify_password("wrong-pass", hashed)
    assert security.argon2_runs - before == 3


def test_policy_bounds_from_settings() -> None:
    settings = Settings(_env_file=None, PASSWORD_MIN_LENGTH=10, PASSWORD_MAX_LENGTH=64)  # type: ignore[call-arg]
    policy = PasswordSecurity.from_settings(settings)
    assert (policy.min_length, policy.max_length) == (10, 64)
    policy.check_policy("x" * 10)
    policy.check_policy("x" * 64)
    with pytest.raises(PasswordPolicyError, match="too short"):
        policy.check_policy("x" * 9)
    with pytest.raises(PasswordPolicyError, match="too long"):
        policy.check_policy("x" * 65)


def test_default_policy_is_8_to_128(security: PasswordSecurity) -> None:
    security.check_policy("é" * 128)  # characters, not bytes
    with pytest.raises(PasswordPolicyError):
        security.check_policy("x" * 129)
    with pytest.raises(PasswordPolicyError):
        security.check_policy("x" * 7)


def test_policy_refuses_lone_surrogates(security: PasswordSecurity) -> None:
    with pytest.raises(PasswordPolicyError, match="Unicode"):
        security.check_policy("abcdefgh\udc00")


def test_policy_error_is_a_value_error_without_the_password(security: PasswordSecurity) -> None:
    with pytest.raises(ValueError, match="too short") as caught:
        security.check_policy("secr3t")
    assert "secr3t" not in str(caught.value)


async def test_async_hashing_leaves_the_event_loop_free(security: PasswordSecurity) -> None:
    """Inline hashing would finish before the task yields; in a worker it cannot."""
    task = asyncio.create_task(security.hash_password_async("pw-123456"))
    await asyncio.sleep(0)
    assert not task.done()
    hashed = await task
    assert await security.verify_password_async("pw-123456", hashed)
    assert not await security.verify_password_async("pw-1234567", hashed)


async def test_concurrent_hashes_are_bounded() -> None:
    """A burst of hashes runs on at most `concurrency` threads; the rest queue."""

    def hashing_threads() -> int:
        return sum(thread.name.startswith("argon2") for thread in threading.enumerate())

    security = PasswordSecurity(concurrency=2)
    before = hashing_threads()  # other instances' idle workers
    seen: set[int] = set()
    running = asyncio.gather(*(security.hash_password_async(f"pw-{i}") for i in range(8)))
    while not running.done():
        seen.add(hashing_threads() - before)
        await asyncio.sleep(0.002)
    hashes = await running
    assert len(set(hashes)) == 8
    assert max(seen) == 2


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice is Linux behaviour")
async def test_hashing_threads_run_at_lower_cpu_priority_than_the_event_loop(
    security: PasswordSecurity,
) -> None:
    """On a shared core the scheduler then favours the loop over hashes."""
    niceness: list[int] = []

    def hash_and_read_niceness() -> None:
        security.generate_password_hash("pw-123456")
        niceness.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    await security._offload(hash_and_read_niceness)  # type: ignore[arg-type]
    assert niceness == [os.getpriority(os.PRIO_PROCESS, 0) + HASHING_THREAD_NICENESS]
