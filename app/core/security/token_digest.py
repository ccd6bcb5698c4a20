"""Storage digests of refresh tokens: SHA-256, compared in constant time.

A refresh token is a signed JWT carrying a 128-bit random `jti`; nobody can guess one,
so a slow password hash adds cost and no protection. A plain SHA-256 is preimage
resistant, which is all a leaked `user_sessions` table needs: its digests cannot be
turned back into tokens. The comparison is constant-time so that response timing
tells nothing about how much of a forged token's digest matched.
"""

from __future__ import annotations

import hashlib
import hmac


def refresh_token_digest(token: str) -> str:
    """The hex SHA-256 of `token`, as stored in `user_sessions.refresh_token_hash`."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def refresh_token_matches(token: str, digest: str | None) -> bool:
    """True only if `digest` is the stored digest of `token` (constant-time compare)."""
    if digest is None:
        return False
    return hmac.compare_digest(refresh_token_digest(token), digest)
