"""The rate-limit key of a refresh request: the session its refresh token names.

The limit is counted per session across rotations, so it reads the token's `sid`
claim, not the token itself. The signature is not checked here (the middleware has no
keys and runs before the app): a forged `sid` only buys a fresh per-session budget,
which the per-IP rule still bounds, and the app refuses the forged token anyway.
"""

from __future__ import annotations

import hashlib

import jwt

from app.core.ratelimit.body_fields import json_body_field


def refresh_session_key(body: bytes | None) -> str | None:
    """A digest of the `sid` in the body's `refresh_token`, or None if there is none."""
    token = json_body_field(body, "refresh_token")
    if not isinstance(token, str):
        return None
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    session_id = claims.get("sid") if isinstance(claims, dict) else None
    if not isinstance(session_id, str) or not session_id:
        return None
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
