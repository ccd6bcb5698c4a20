"""The rate-limit key of a refresh: the session its refresh token names, across rotations.

The per-session refresh limit over HTTP is tested in test_router.py
(`test_refresh_is_rate_limited_per_session`).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Callable

import orjson
import pytest

from app.auth.session_key import refresh_session_key
from app.core.config import Settings
from app.core.security import JWTService

USER = uuid.UUID("0b8e7c1a-5d2f-4e3a-9b6c-7d8e9f0a1b2c")


@pytest.fixture
def tokens(make_settings: Callable[..., Settings]) -> JWTService:
    return JWTService.from_settings(make_settings())


def body(refresh_token: object) -> bytes:
    return orjson.dumps({"refresh_token": refresh_token})


def segment(claims: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(claims)).decode().rstrip("=")


def test_every_rotation_of_one_session_shares_its_key(tokens: JWTService) -> None:
    session = uuid.uuid4()
    first = tokens.create_refresh_token(USER, ["user"], session)
    rotated = tokens.create_refresh_token(USER, ["user", "admin"], session)
    assert first != rotated
    assert refresh_session_key(body(first)) == refresh_session_key(body(rotated))


def test_two_sessions_have_two_keys(tokens: JWTService) -> None:
    keys = {
        refresh_session_key(body(tokens.create_refresh_token(USER, ["user"], uuid.uuid4())))
        for _ in range(2)
    }
    assert len(keys) == 2
    assert None not in keys


def test_the_key_is_a_digest_of_the_sid_not_the_sid_itself(tokens: JWTService) -> None:
    session = uuid.uuid4()
    key = refresh_session_key(body(tokens.create_refresh_token(USER, ["user"], session)))
    assert key == hashlib.sha256(str(session).encode()).hexdigest()[:32]
    assert str(session) not in str(key)


def test_the_signature_is_not_checked() -> None:
    """The middleware has no keys; the app refuses a forged token anyway."""
    forged = f"{segment({'alg': 'none'})}.{segment({'sid': 'abc'})}.forged"
    assert refresh_session_key(body(forged)) == hashlib.sha256(b"abc").hexdigest()[:32]


@pytest.mark.parametrize(
    "request_body",
    [
        None,
        b"",
        b"not json",
        b"[]",
        orjson.dumps({"token": "a.b.c"}),
        body(42),
        body(None),
        body("not-a-jwt"),
        body("only.two"),
        body("a.b.c.d"),
        body("header.!!!not-base64!!!.signature"),
        body(f"h.{base64.urlsafe_b64encode(b'not json').decode()}.s"),
        body(f"h.{segment(['a', 'list'])}.s"),
        body(f"h.{segment({'sub': 'someone'})}.s"),
        body(f"h.{segment({'sid': ''})}.s"),
        body(f"h.{segment({'sid': 12345})}.s"),
    ],
    ids=[
        "no-body",
        "empty-body",
        "not-json",
        "not-an-object",
        "no-refresh-token",
        "token-not-a-string",
        "token-null",
        "one-segment",
        "two-segments",
        "four-segments",
        "payload-not-base64",
        "payload-not-json",
        "payload-not-an-object",
        "no-sid",
        "empty-sid",
        "sid-not-a-string",
    ],
)
def test_a_body_naming_no_session_has_no_key(request_body: bytes | None) -> None:
    assert refresh_session_key(request_body) is None
