"""SessionCache alone: a bounded LRU of authenticated callers with a TTL, trusted only
when told, dropping what each `auth_cache` notification names.

The cache seen through HTTP is tested in test_http_session_cache.py; what keeps it
honest (the LISTEN connection, this process's writes) in test_cache_listener.py.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.auth.session_cache import CachedCaller, SessionCache
from tests.auth.conftest import cached_caller


def trusted(max_entries: int = 10, ttl_seconds: float = 3600) -> SessionCache:
    cache = SessionCache(max_entries=max_entries, ttl_seconds=ttl_seconds)
    cache.trusted = True
    return cache


def stored(cache: SessionCache, *callers: CachedCaller) -> SessionCache:
    for entry in callers:
        cache.put(entry, generation=cache.generation)
    return cache


def test_an_entry_carries_what_authentication_found() -> None:
    entry = cached_caller()
    assert (entry.session_id, entry.user_id) == (entry.session.id, entry.session.user_id)
    assert (entry.last_used_at, entry.expires_at) == (
        entry.session.last_used_at,
        entry.session.expires_at,
    )


def test_a_stored_caller_is_found_by_its_session_id() -> None:
    entry = cached_caller()
    cache = stored(trusted(), entry)
    assert cache.get(entry.session_id) is entry
    assert cache.get(uuid.uuid4()) is None
    assert len(cache) == 1


def test_a_cache_not_trusted_answers_nothing_and_stores_nothing() -> None:
    entry = cached_caller()
    cache = stored(trusted(), entry)
    cache.trusted = False
    assert cache.get(entry.session_id) is None
    cache.put(cached_caller(), generation=cache.generation)
    assert len(cache) == 1


def test_the_least_recently_used_entry_leaves_first() -> None:
    first, second, third = cached_caller(), cached_caller(), cached_caller()
    cache = stored(trusted(max_entries=2), first, second)
    assert cache.get(first.session_id) is first  # now the most recently used
    cache.put(third, generation=cache.generation)
    assert len(cache) == 2
    assert cache.get(second.session_id) is None
    assert cache.get(first.session_id) is first
    assert cache.get(third.session_id) is third


def test_an_entry_older_than_the_ttl_is_gone() -> None:
    entry = cached_caller()
    cache = stored(trusted(ttl_seconds=0.05), entry)
    time.sleep(0.1)
    assert cache.get(entry.session_id) is None
    assert len(cache) == 0


def test_a_lookup_that_raced_with_an_invalidation_is_not_stored() -> None:
    cache = trusted()
    generation = cache.generation
    cache.invalidate(f"s:{uuid.uuid4()}")  # arrives while the lookup reads the database
    cache.put(cached_caller(), generation=generation)
    assert len(cache) == 0


def test_a_session_notification_drops_that_session_only() -> None:
    mine, other = cached_caller(), cached_caller()
    cache = stored(trusted(), mine, other)
    cache.invalidate(f"s:{mine.session_id}")
    assert cache.get(mine.session_id) is None
    assert cache.get(other.session_id) is other


def test_a_user_notification_drops_every_session_of_that_user() -> None:
    user = uuid.uuid4()
    first, second, other = cached_caller(user_id=user), cached_caller(user_id=user), cached_caller()
    cache = stored(trusted(), first, second, other)
    cache.invalidate(f"u:{user}")
    assert [cache.get(e.session_id) for e in (first, second, other)] == [None, None, other]
    cache.invalidate(f"u:{user}")  # nothing left of that user: nothing happens
    assert len(cache) == 1


@pytest.mark.parametrize("payload", ["*", "s:not-a-uuid", "x:" + str(uuid.uuid4()), "", "s:"])
def test_any_other_notification_empties_the_cache(payload: str) -> None:
    cache = stored(trusted(), cached_caller(), cached_caller())
    before = cache.generation
    cache.invalidate(payload)
    assert len(cache) == 0
    assert cache.generation > before


def test_storing_a_session_again_replaces_its_entry() -> None:
    session_id, user = uuid.uuid4(), uuid.uuid4()
    old, new = cached_caller(session_id, user), cached_caller(session_id, user)
    cache = stored(trusted(), old, new)
    assert cache.get(session_id) is new
    assert len(cache) == 1
    cache.invalidate(f"u:{user}")
    assert len(cache) == 0


def test_touched_records_the_activity_written_for_the_same_entry() -> None:
    entry = cached_caller()
    cache = stored(trusted(), entry)
    later = datetime.now(UTC) + timedelta(minutes=2)
    cache.touched(entry, later)
    found = cache.get(entry.session_id)
    assert found is not None
    assert found.last_used_at == later
    assert found.session is entry.session


def test_touched_leaves_an_entry_stored_since_alone() -> None:
    session_id, user = uuid.uuid4(), uuid.uuid4()
    old, new = cached_caller(session_id, user), cached_caller(session_id, user)
    cache = stored(trusted(), old, new)
    cache.touched(old, datetime.now(UTC) + timedelta(minutes=2))
    assert cache.get(session_id) is new
