"""Rate limiting for the auth routes: moving windows in memory or Redis, IETF RateLimit headers.

`rules` says what is limited, `backends` counts (bounded memory; Redis through `limits`),
`limiter` picks the backend and falls back to memory when Redis fails, `middleware`
applies it to requests.
"""

from app.core.ratelimit.backends import (
    Decision,
    MemoryBackend,
    RateLimitBackendError,
    RedisBackend,
)
from app.core.ratelimit.limiter import RateLimiter
from app.core.ratelimit.middleware import RateLimitMiddleware
from app.core.ratelimit.rules import RateLimitRule, rules_from_settings

__all__ = [
    "Decision",
    "MemoryBackend",
    "RateLimitBackendError",
    "RateLimitMiddleware",
    "RateLimitRule",
    "RateLimiter",
    "RedisBackend",
    "rules_from_settings",
]
