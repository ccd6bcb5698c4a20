"""The rate-limit key of a refresh request: the session its refresh token names.

The limit is counted per session across rotations, so it reads the token's `sid`
claim, not the token itself. The signature is not checked here (the middleware has no
keys and runs before the app): a forged `sid` only buys a fresh per-session budget,
which the per-IP rule still bounds, and the app refuses the forged token anyway. With
nothing to verify, the payload segment is read directly: PyJWT's unverified decode
costs about 35 µs, most of it option handling for checks that are all off.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import orjson

from app.core.ratelimit.body_fields import json_body_field


def refresh_session_key(body: bytes | None) -> str | None:
    """A digest of the `sid` in the body's `refresh_token`, or None if there is none."""
    token = json_body_field(body, "refresh_token")
    if not isinstance(token, str):
        return None
    claims = _unverified_claims(token)
    session_id = claims.get("sid") if isinstance(claims, dict) else None
    if not isinstance(session_id, str) or not session_id:
        return None
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _unverified_claims(token: str) -> Any:
    """The JSON of a compact JWS's payload segment, unverified; None if it has none."""
    segments = token.split(".")
    if len(segments) != 3:
        return None
    payload = segments[1]
    try:
        return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:  # not base64url, or not JSON: binascii's and orjson's errors are both
        return None
