"""The rate limiter the middleware asks: Redis when configured, memory otherwise or meanwhile.

It starts with no rules: each domain registers its own (`register`), and the middleware
asks it which rules apply to a request's route (`rules_for`).

When Redis fails, the hit is answered by the in-process backend instead, so limiting
never stops and never turns into a 500; the failure is logged and counted in
`app_ratelimit_backend_errors_total`. Redis is tried again after `retry_seconds`, so an
outage costs one failed attempt per interval, not a timeout per request. While Redis is
down every worker counts on its own: a client can get up to `limit` per worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from app.core.logger import get_logger
from app.core.metrics.global_metrics import ratelimit_backend_errors
from app.core.ratelimit.backends import (
    Check,
    Decision,
    MemoryBackend,
    RateLimitBackendError,
    RedisBackend,
)
from app.core.ratelimit.rules import CLIENT_IP, BodyKey, RateLimitRule

if TYPE_CHECKING:
    from app.core.config import Settings

logger = get_logger("app.core.ratelimit")


class RateLimiter:
    """Applies `rules` with a shared Redis backend (optional) and an in-process fallback."""

    def __init__(
        self,
        rules: Iterable[RateLimitRule] = (),
        *,
        body_keys: Mapping[str, BodyKey] | None = None,
        memory: MemoryBackend | None = None,
        redis: RedisBackend | None = None,
        retry_seconds: float = 5.0,
    ) -> None:
        self.rules: tuple[RateLimitRule, ...] = ()
        self.body_keys: dict[str, BodyKey] = {}
        self._routes: dict[tuple[str, str], tuple[RateLimitRule, ...]] = {}
        self.register(rules, body_keys)
        self.memory = memory or MemoryBackend()
        self.redis = redis
        self.retry_seconds = retry_seconds
        self._redis_down_until = 0.0
        self._redis_failing = False

    def register(
        self, rules: Iterable[RateLimitRule], body_keys: Mapping[str, BodyKey] | None = None
    ) -> None:
        """Add a domain's `rules` and the `body_keys` they count by (before the app serves).

        A route's rules are counted in the order registered, stopping at the first refusal.
        """
        rules = tuple(rules)
        known = {**self.body_keys, **(body_keys or {})}
        unknown = sorted({rule.key for rule in rules} - known.keys() - {CLIENT_IP})
        if unknown:
            raise ValueError(f"rate-limit rules count by unregistered keys: {unknown}")
        self.body_keys = known
        self.rules = (*self.rules, *rules)
        for rule in rules:
            route = (rule.method, rule.path)
            self._routes[route] = (*self._routes.get(route, ()), rule)

    def rules_for(self, method: str, path: str) -> tuple[RateLimitRule, ...]:
        """The rules that count a request to `method path` (none for most routes)."""
        return self._routes.get((method, path), ())

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimiter | None:
        """A limiter with no rules yet, or None when RATE_LIMIT_ENABLED is false."""
        if not settings.RATE_LIMIT_ENABLED:
            return None
        redis = (
            RedisBackend(settings.REDIS_URL, key_prefix=f"{settings.project_identifier}:ratelimit")
            if settings.REDIS_URL
            else None
        )
        return cls(
            memory=MemoryBackend(settings.RATE_LIMIT_MEMORY_MAX_KEYS),
            redis=redis,
            retry_seconds=settings.RATE_LIMIT_REDIS_RETRY_SECONDS,
        )

    @property
    def using_fallback(self) -> bool:
        """True while Redis is configured but being skipped after a failure."""
        return self.redis is not None and self._redis_failing

    async def start(self) -> None:
        """Check Redis once at startup so an outage shows in the logs before traffic."""
        if self.redis is None:
            return
        try:
            await self.redis.ping()
        except RateLimitBackendError as exc:
            self._redis_unavailable(exc)

    async def hit(self, rule: RateLimitRule, key: str) -> Decision:
        return (await self.hit_all([(rule, key)]))[0]

    async def hit_all(self, checks: Sequence[Check]) -> list[Decision]:
        """Count one request against each check in order, up to the first refusal."""
        if self.redis is not None and time.monotonic() >= self._redis_down_until:
            try:
                decisions = await self.redis.hit_all(checks)
            except RateLimitBackendError as exc:
                self._redis_unavailable(exc)
            else:
                if self._redis_failing:
                    self._redis_failing = False
                    logger.info("ratelimit_backend_recovered", extra={"backend": "redis"})
                return decisions
        return await self.memory.hit_all(checks)

    def _redis_unavailable(self, exc: RateLimitBackendError) -> None:
        self._redis_failing = True
        self._redis_down_until = time.monotonic() + self.retry_seconds
        ratelimit_backend_errors.labels(backend="redis").inc()
        logger.error(
            "ratelimit_backend_unavailable",
            extra={
                "backend": "redis",
                "error": str(exc),
                "fallback": "memory",
                "retry_in_seconds": self.retry_seconds,
            },
        )

    async def aclose(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()
        await self.memory.aclose()
