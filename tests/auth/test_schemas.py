"""The request and response bodies of /api/auth, alone (the HTTP tests use them through the API)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from app.auth.models import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH
from app.auth.schemas import (
    TOKEN_MAX_LENGTH,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserRead,
)


def test_an_email_is_kept_in_its_one_normal_form() -> None:
    # Fullwidth letters (NFKC), upper case and surrounding space: one mailbox.
    body = LoginRequest(email="  \uff21da@Example.COM ", password="x")
    assert body.email == "ada@example.com"
    assert RegisterRequest(email="ADA@example.com", password="x").email == body.email


def test_an_address_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        LoginRequest(email="not an address", password="x")
    assert refused.value.errors()[0]["loc"] == ("email",)


def test_register_strips_the_full_name_and_bounds_it() -> None:
    assert RegisterRequest(email="a@example.com", password="x", full_name="  Ada  ").full_name == (
        "Ada"
    )
    assert RegisterRequest(email="a@example.com", password="x").full_name is None
    with pytest.raises(ValidationError):
        RegisterRequest(
            email="a@example.com", password="x", full_name="a" * (FULL_NAME_MAX_LENGTH + 1)
        )


def test_request_bodies_refuse_unknown_fields() -> None:
    with pytest.raises(ValidationError) as refused:
        LoginRequest.model_validate({"email": "a@example.com", "password": "x", "admin": True})
    assert refused.value.errors()[0]["type"] == "extra_forbidden"


def test_a_refresh_token_is_neither_empty_nor_longer_than_the_cap() -> None:
    assert RefreshRequest(refresh_token="a" * TOKEN_MAX_LENGTH).refresh_token
    for token in ("", "a" * (TOKEN_MAX_LENGTH + 1)):
        with pytest.raises(ValidationError):
            RefreshRequest(refresh_token=token)


def test_the_email_field_documents_its_format_and_bound() -> None:
    schema = LoginRequest.model_json_schema()["properties"]["email"]
    assert schema["format"] == "email"
    assert schema["maxLength"] == EMAIL_MAX_LENGTH


def test_the_public_view_of_an_account_has_no_password_field() -> None:
    assert not any("password" in name for name in UserRead.model_fields)
    user = UserRead(
        id=uuid.uuid4(),
        email="a@example.com",
        full_name=None,
        roles=["user"],
        created_at=datetime.now(UTC),
    )
    assert "password" not in user.model_dump_json()


def test_a_token_pair_is_a_bearer_pair() -> None:
    pair = TokenPair(access_token="a", refresh_token="r", expires_in=900, session_id=uuid.uuid4())
    assert pair.model_dump()["token_type"] == "bearer"
