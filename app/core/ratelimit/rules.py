"""What is limited: rules per route, each counted per key, and the readers of those keys.

Core knows no route: a domain declares its rules (which of its routes, how many requests
per window, counted by what) and registers them with the limiter
(`RateLimiter.register`). Every rule may count per client address (`CLIENT_IP`); any
other key names a `BodyKey` registered with the rules, a function that reads the key
from the request body (`json_body_field` reads one field of a JSON object).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from limits import RateLimitItem, parse

CLIENT_IP = "ip"
"""The key every rule may use unregistered: the client's address (see `app.core.middleware.rate_limit`)."""

BodyKey = Callable[[bytes | None], str | None]
"""Reads a rate-limit key from a request body; None when the body holds none.

A request without the key is not counted by that rule: the app refuses such a body.
"""


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    """`limit` requests per `window_seconds` to `method path`, counted per `key`.

    `name` is the policy id in the RateLimit headers and part of the storage key.
    `key` is `CLIENT_IP` or the name of a `BodyKey` registered with the rule.
    """

    name: str
    method: str
    path: str
    key: str
    item: RateLimitItem

    @classmethod
    def parse(cls, name: str, method: str, path: str, key: str, spec: str) -> RateLimitRule:
        """`spec` in the `limits` notation: "20/minute", "5 per hour", "100/2 hours"."""
        item = parse(spec)
        if item.amount < 1:
            raise ValueError(f"rate limit {name!r} must allow at least one request")
        return cls(name, method.upper(), path, key, item)

    @property
    def limit(self) -> int:
        amount: int = self.item.amount
        return amount

    @property
    def window_seconds(self) -> int:
        seconds: int = self.item.get_expiry()
        return seconds
