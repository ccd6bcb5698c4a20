"""Which requests are limited, by what key, and how many per window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from limits import RateLimitItem, parse

if TYPE_CHECKING:
    from app.core.config import Settings

KeySource = Literal["ip", "email", "session"]


@dataclass(frozen=True, slots=True)
class RateLimitRule:
    """`limit` requests per `window_seconds` to `method path`, counted per `key`.

    `name` is the policy id in the RateLimit headers and part of the storage key.
    """

    name: str
    method: str
    path: str
    key: KeySource
    item: RateLimitItem

    @classmethod
    def parse(cls, name: str, method: str, path: str, key: KeySource, spec: str) -> RateLimitRule:
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


def rules_from_settings(settings: Settings) -> tuple[RateLimitRule, ...]:
    """The auth routes' rules; per-IP rules come first so their refusal spares the email's budget."""
    return (
        RateLimitRule.parse(
            "login-ip", "POST", "/api/auth/login", "ip", settings.RATE_LIMIT_LOGIN_PER_IP
        ),
        RateLimitRule.parse(
            "login-email", "POST", "/api/auth/login", "email", settings.RATE_LIMIT_LOGIN_PER_EMAIL
        ),
        RateLimitRule.parse(
            "register-ip", "POST", "/api/auth/register", "ip", settings.RATE_LIMIT_REGISTER_PER_IP
        ),
        RateLimitRule.parse(
            "refresh-ip", "POST", "/api/auth/refresh", "ip", settings.RATE_LIMIT_REFRESH_PER_IP
        ),
        RateLimitRule.parse(
            "refresh-session",
            "POST",
            "/api/auth/refresh",
            "session",
            settings.RATE_LIMIT_REFRESH_PER_SESSION,
        ),
        RateLimitRule.parse(
            "password-ip", "POST", "/api/auth/password", "ip", settings.RATE_LIMIT_PASSWORD_PER_IP
        ),
    )
