"""Refresh tokens are stored as their SHA-256 and checked against it in constant time."""

from __future__ import annotations

import hashlib

from app.core.security.token_digest import refresh_token_digest, refresh_token_matches

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiJhYmMifQ.c2lnbmF0dXJl"


def test_the_digest_is_the_hex_sha256_of_the_token() -> None:
    assert refresh_token_digest(TOKEN) == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert len(refresh_token_digest(TOKEN)) == 64


def test_a_token_holding_a_lone_surrogate_still_has_a_digest() -> None:
    """Whatever a client sends is digested, never a 500 from an encoding error."""
    assert refresh_token_digest("\ud800") == hashlib.sha256(b"\xed\xa0\x80").hexdigest()


def test_a_token_matches_only_its_own_digest() -> None:
    stored = refresh_token_digest(TOKEN)
    assert refresh_token_matches(TOKEN, stored)
    assert not refresh_token_matches(TOKEN + "x", stored)
    assert not refresh_token_matches(TOKEN, refresh_token_digest(TOKEN + "x"))
    assert not refresh_token_matches(TOKEN, stored[:-1] + ("0" if stored[-1] != "0" else "1"))
    assert not refresh_token_matches(TOKEN, stored.upper())


def test_nothing_matches_a_session_without_a_digest() -> None:
    assert not refresh_token_matches(TOKEN, None)
    assert not refresh_token_matches("", None)
