"""The auth routes' rate limits, registered with core's limiter by `create_app`.

Per-IP rules come first so that their refusal spares the other key's budget. Besides the
client address, the rules count by two keys read from the request body:

- `email` (login): the submitted address in the one form the login looks it up by
  (`normalize_email`: NFKC, IDNA, lower case), so every spelling of an address shares one
  budget, as an HMAC under EMAIL_DIGEST_KEY so no address sits in Redis or memory;
- `session` (refresh): the session named by the submitted refresh token
  (`refresh_session_key`), so the budget survives rotation.
"""

from __future__ import annotations

from functools import partial

from app.auth.session_key import refresh_session_key
from app.core.config import Settings
from app.core.ratelimit import CLIENT_IP, BodyKey, RateLimiter, RateLimitRule, json_body_field
from app.core.security.emails import InvalidEmailError, email_digest, normalize_email

PREFIX = "/api/auth"


def rules_from_settings(settings: Settings) -> tuple[RateLimitRule, ...]:
    """The auth routes' rules, from the RATE_LIMIT_* settings."""
    login, register, refresh, password = (
        f"{PREFIX}/{name}" for name in ("login", "register", "refresh", "password")
    )
    return (
        RateLimitRule.parse("login-ip", "POST", login, CLIENT_IP, settings.RATE_LIMIT_LOGIN_PER_IP),
        RateLimitRule.parse(
            "login-email", "POST", login, "email", settings.RATE_LIMIT_LOGIN_PER_EMAIL
        ),
        RateLimitRule.parse(
            "register-ip", "POST", register, CLIENT_IP, settings.RATE_LIMIT_REGISTER_PER_IP
        ),
        RateLimitRule.parse(
            "refresh-ip", "POST", refresh, CLIENT_IP, settings.RATE_LIMIT_REFRESH_PER_IP
        ),
        RateLimitRule.parse(
            "refresh-session", "POST", refresh, "session", settings.RATE_LIMIT_REFRESH_PER_SESSION
        ),
        RateLimitRule.parse(
            "password-ip", "POST", password, CLIENT_IP, settings.RATE_LIMIT_PASSWORD_PER_IP
        ),
    )


def email_key(body: bytes | None, digest_key: bytes = b"") -> str | None:
    """The keyed digest of a JSON body's `email` in the form the login looks up, or None."""
    email = json_body_field(body, "email")
    if not isinstance(email, str):
        return None
    try:
        normalized = normalize_email(email)
    except InvalidEmailError:  # the app refuses the body (422): no password is tried
        return None
    return email_digest(normalized, digest_key)


def body_keys(settings: Settings) -> dict[str, BodyKey]:
    return {
        "email": partial(email_key, digest_key=settings.email_digest_key),
        "session": refresh_session_key,
    }


def register_rate_limits(limiter: RateLimiter, settings: Settings) -> None:
    """Have `limiter` count the auth routes."""
    limiter.register(rules_from_settings(settings), body_keys(settings))
