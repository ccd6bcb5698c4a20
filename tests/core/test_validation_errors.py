"""Sanitising validation errors: JSON-safe, bounded, and secret-free."""

from __future__ import annotations

import json

import pytest

from app.core.logger.redaction import REDACTED, is_secret_name
from app.core.validation_errors import (
    MAX_ECHO_CHARS,
    MAX_ECHO_ITEMS,
    MAX_ERRORS,
    bounded,
    sanitize_error,
    sanitize_errors,
)


@pytest.mark.parametrize(
    "name",
    ["password", "new_password", "Password2", "passwd", "client_secret", "refresh_token", "accessToken", "api_key", "X-API-Key", "authorization", "credentials", "private_key", "cookie", "session_id"],
)  # fmt: skip
def test_secret_names(name: str) -> None:
    assert is_secret_name(name, echoed=True)


def test_session_ids_are_secret_only_where_echoed_to_a_client() -> None:
    assert is_secret_name("session_id", echoed=True)
    assert not is_secret_name("session_id")  # the logs keep it, to tie a session's lines


@pytest.mark.parametrize(
    "name", ["email", "username", "passport_number", "footprint", "city", "description"]
)
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name, echoed=True)


def test_ctx_keeps_only_json_scalars() -> None:
    error = {
        "type": "value_error",
        "loc": ("body", "age"),
        "msg": "Value error, too young",
        "input": 3,
        "ctx": {"error": ValueError("too young"), "limit": 18, "note": None},
        "url": "https://errors.pydantic.dev/2/v/value_error",
    }
    clean = sanitize_error(error)
    assert clean == {
        "type": "value_error",
        "loc": ["body", "age"],
        "msg": "Value error, too young",
        "input": 3,
        "ctx": {"limit": 18, "note": None},
    }
    json.dumps(clean, allow_nan=False)


def test_ctx_with_nothing_serialisable_is_dropped() -> None:
    clean = sanitize_error({"type": "x", "loc": (), "msg": "m", "ctx": {"error": object()}})
    assert "ctx" not in clean


def test_secret_location_drops_the_input() -> None:
    clean = sanitize_error(
        {"type": "string_too_short", "loc": ("body", "password"), "msg": "m", "input": "abc"}
    )
    assert "input" not in clean


def test_echoed_objects_redact_secret_keys_at_any_depth() -> None:
    body = {"email": "a@example.com", "password": "pw", "nested": {"refresh_token": "t", "ok": 1}}
    clean = sanitize_error({"type": "missing", "loc": ("body", "name"), "msg": "m", "input": body})
    assert clean["input"] == {
        "email": "a@example.com",
        "password": REDACTED,
        "nested": {"refresh_token": REDACTED, "ok": 1},
    }


def test_echo_is_bounded() -> None:
    assert bounded("x" * 10_000) == "x" * MAX_ECHO_CHARS + "…"
    assert bounded(b"y" * 10_000) == "y" * MAX_ECHO_CHARS + "…"
    many = bounded(list(range(1000)))
    assert many[:MAX_ECHO_ITEMS] == list(range(MAX_ECHO_ITEMS))
    assert many[-1] == f"… {1000 - MAX_ECHO_ITEMS} more"
    wide = bounded({f"k{i}": i for i in range(100)})
    assert len(wide) == MAX_ECHO_ITEMS + 1
    assert bounded({"a": {"b": {"c": {"d": 1}}}}) == {"a": {"b": "…"}}


def test_echo_is_json_safe() -> None:
    assert bounded(float("nan")) == "nan"
    assert bounded(float("inf")) == "inf"
    assert bounded(10**5000) == f"<int of {(10**5000).bit_length()} bits>"
    assert bounded(2**100) == 2**100
    assert bounded(object()) == "<object>"
    assert bounded({1: {2, 3}}) in ({"1": [2, 3]}, {"1": [3, 2]})
    json.dumps(bounded({"x": [float("nan"), b"\xff", object(), 10**5000]}), allow_nan=False)


def test_error_count_is_bounded() -> None:
    errors = [
        {"type": "missing", "loc": ("body", f"f{i}"), "msg": "Field required"} for i in range(500)
    ]
    assert len(sanitize_errors(errors)) == MAX_ERRORS
