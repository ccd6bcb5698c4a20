"""Rate limiting: moving windows in memory or Redis, IETF RateLimit headers.

The mechanism only; the rules are the domains' (the auth routes' are in
`app.auth.rate_limits`). `rules` says what a rule and a key are, `body_fields` reads a key
from a JSON body, `backends` counts (bounded memory; Redis through `limits`), `limiter`
holds the registered rules, picks the backend and falls back to memory when Redis fails,
`app.core.middleware.rate_limit` applies them to requests.
"""

from app.core.ratelimit.backends import (
    Decision,
    MemoryBackend,
    RateLimitBackendError,
    RedisBackend,
)
from app.core.ratelimit.body_fields import json_body_field
from app.core.ratelimit.limiter import RateLimiter
from app.core.ratelimit.rules import CLIENT_IP, BodyKey, RateLimitRule

__all__ = [
    "CLIENT_IP",
    "BodyKey",
    "Decision",
    "MemoryBackend",
    "RateLimitBackendError",
    "RateLimitRule",
    "RateLimiter",
    "RedisBackend",
    "json_body_field",
]
