"""Moving-window counters: in process (bounded) and in Redis (shared, atomic).

Both count a rule exactly: a request is allowed when fewer than `limit` requests were
allowed for the same key in the last `window_seconds` (a moving window, so there is no
burst of 2x the limit at a fixed window's edge), and a refused request is not counted.

A request is counted against all of its route's rules in one call (`hit_all`), in order,
stopping at the first refusal. In Redis that call is one Lua script, so one round trip
per request whatever the number of rules. The `limits` library's Redis strategy takes two
round trips per rule (acquire, then read the window back for the RateLimit header): four
for a refresh. The script keeps `limits`' layout (one list of timestamps per key, newest
first, under the same key names), so the counts carry over from a version that used it.

The in-process backend is our own because `limits`' MemoryStorage keeps every key until
it expires and sweeps all keys with a thread hop each on every hit; measured with 100,000
distinct keys it took ~100 us a hit and ~48 MB with no upper bound. Ours keeps the most
recently used `max_keys` keys (LRU), ~2 us a hit.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.core.ratelimit.rules import RateLimitRule


class RateLimitBackendError(Exception):
    """The shared backend could not answer; the caller falls back to the local one."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one hit: allowed or not, what is left, when a slot frees up."""

    allowed: bool
    remaining: int
    reset_after: float  # seconds until the oldest counted request leaves the window


Check = tuple[RateLimitRule, str]
"""A rule and the key one request is counted by."""


class MemoryBackend:
    """Per-process moving windows, at most `max_keys` keys (least recently used go first).

    Evicting a key forgets its count, so the bound trades exactness for memory only under
    a flood of distinct keys; the flood's own keys are the first to go.
    """

    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self.max_keys = max_keys
        self._clock = clock
        self._windows: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    async def hit(self, rule: RateLimitRule, key: str) -> Decision:
        # No await between reading and writing the window: atomic on the event loop.
        now = self._clock()
        window_key = f"{rule.name}:{key}"
        hits = self._windows.get(window_key)
        if hits is None:
            hits = self._windows[window_key] = deque()
            while len(self._windows) > self.max_keys:
                self._windows.popitem(last=False)
        else:
            self._windows.move_to_end(window_key)
            since = now - rule.window_seconds
            while hits and hits[0] <= since:  # oldest first: each hit leaves once
                hits.popleft()
        allowed = len(hits) < rule.limit
        if allowed:
            hits.append(now)
        return Decision(allowed, rule.limit - len(hits), hits[0] + rule.window_seconds - now)

    async def hit_all(self, checks: Sequence[Check]) -> list[Decision]:
        """Count one request against each check in order, up to the first refusal."""
        decisions = []
        for rule, key in checks:
            decision = await self.hit(rule, key)
            decisions.append(decision)
            if not decision.allowed:
                break
        return decisions

    async def aclose(self) -> None:
        self._windows.clear()


# KEYS: one list per check; ARGV: each check's limit and window in seconds. Returns, per
# check counted, {allowed, remaining, seconds until the oldest counted hit leaves}.
# The clock is Redis's own: every worker and instance counts on the same one, and the
# lists stay in order.
MOVING_WINDOWS = """
redis.replicate_commands()  -- before TIME on Redis < 5; a no-op since
local time = redis.call('TIME')
local now = tonumber(time[1]) + tonumber(time[2]) / 1000000
local decisions = {}
for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[2 * i - 1])
    local window = tonumber(ARGV[2 * i])
    local since = now - window
    -- Newest first and trimmed to `limit`: find how many are still in the window.
    local low, high, count = 0, redis.call('llen', key) - 1, 0
    while low <= high do
        local middle = math.floor((low + high) / 2)
        if tonumber(redis.call('lindex', key, middle)) > since then
            count = middle + 1
            low = middle + 1
        else
            high = middle - 1
        end
    end
    local allowed = count < limit
    if allowed then
        redis.call('lpush', key, string.format('%.6f', now))
        redis.call('ltrim', key, 0, limit - 1)
        redis.call('expire', key, window)
        count = count + 1
    end
    local oldest = tonumber(redis.call('lindex', key, count - 1))
    decisions[i] = {allowed and 1 or 0, limit - count, string.format('%.6f', oldest + window - now)}
    if not allowed then
        break
    end
end
return decisions
"""


class RedisBackend:
    """Moving windows in Redis (redis-py, one Lua script per request), shared by all workers.

    Fails fast (short timeouts, one immediate retry for a stale pooled connection) and
    raises `RateLimitBackendError` for any Redis or network error.
    """

    def __init__(self, url: str, *, key_prefix: str = "ratelimit", timeout_seconds: float = 0.5):
        # Imported here: a service without REDIS_URL never loads redis-py (~8 MiB, ~0.06 s).
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        self._errors = (RedisError, OSError)
        self._key_prefix = key_prefix
        self._client = Redis.from_url(
            url,
            socket_timeout=timeout_seconds,
            socket_connect_timeout=timeout_seconds,
            retry=Retry(NoBackoff(), 1),
        )
        self._moving_windows = self._client.register_script(MOVING_WINDOWS)

    def _key(self, rule: RateLimitRule, key: str) -> str:
        # `limits`' name for the same window: LIMITER/<name>/<key>/<amount>/<multiples>/<unit>
        return f"{self._key_prefix}:{rule.item.key_for(rule.name, key)}"

    async def hit(self, rule: RateLimitRule, key: str) -> Decision:
        return (await self.hit_all([(rule, key)]))[0]

    async def hit_all(self, checks: Sequence[Check]) -> list[Decision]:
        """Count one request against each check in order, up to the first refusal."""
        args: list[int] = []
        for rule, _ in checks:
            args += (rule.limit, rule.window_seconds)
        try:
            rows = await self._moving_windows(
                keys=[self._key(rule, key) for rule, key in checks], args=args
            )
        except self._errors as exc:
            raise RateLimitBackendError(type(exc).__name__) from exc
        return [
            Decision(bool(allowed), remaining, max(float(reset_after), 0.0))
            for allowed, remaining, reset_after in rows
        ]

    async def ping(self) -> None:
        try:
            await self._client.ping()
        except self._errors as exc:
            raise RateLimitBackendError(type(exc).__name__) from exc

    async def aclose(self) -> None:
        await self._client.aclose()
