"""The bodies of `/api/auth` (app/auth/schemas.py): what a request may hold, in which form
it reaches the service, and what a response shows.

The same rules seen through HTTP (422 problem bodies) are tested in test_router.py.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from app.auth.models import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH, User
from app.auth.schemas import (
    TOKEN_MAX_LENGTH,
    LoginRequest,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
    TokenPair,
    UserRead,
)

PASSWORD = "correct horse battery staple"


def error_types(model: type[Any], data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


@pytest.mark.parametrize("model", [RegisterRequest, LoginRequest])
@pytest.mark.parametrize(
    "spelling",
    ["ada@example.com", "  Ada@Example.COM ", "ADA@EXAMPLE.COM", "\uff41\uff44\uff41@example.com"],
)
def test_every_spelling_of_an_address_reaches_the_service_in_one_form(
    model: type[RegisterRequest | LoginRequest], spelling: str
) -> None:
    assert model(email=spelling, password=PASSWORD).email == "ada@example.com"


@pytest.mark.parametrize("model", [RegisterRequest, LoginRequest])
@pytest.mark.parametrize("email", ["", "ada", "ada@", "@example.com", "ada@@example.com"])
def test_a_string_that_is_not_an_address_is_refused_on_the_email_field(
    model: type[RegisterRequest | LoginRequest], email: str
) -> None:
    assert [loc for loc, _ in error_types(model, {"email": email, "password": PASSWORD})] == [
        ("email",)
    ]


def test_the_email_field_documents_its_format_and_length() -> None:
    schema = RegisterRequest.model_json_schema()["properties"]["email"]
    assert (schema["format"], schema["maxLength"]) == ("email", EMAIL_MAX_LENGTH)


def test_a_full_name_is_trimmed_and_bounded() -> None:
    body = {"email": "ada@example.com", "password": PASSWORD}
    assert RegisterRequest(**body, full_name="  Ada Lovelace ").full_name == "Ada Lovelace"
    assert RegisterRequest(**body).full_name is None
    too_long = {**body, "full_name": "x" * (FULL_NAME_MAX_LENGTH + 1)}
    [(loc, kind)] = error_types(RegisterRequest, too_long)
    assert loc == ("full_name",)
    assert kind.endswith("too_long")


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (RegisterRequest, {"email": "ada@example.com", "password": PASSWORD, "roles": ["admin"]}),
        (LoginRequest, {"email": "ada@example.com", "password": PASSWORD, "remember": True}),
        (RefreshRequest, {"refresh_token": "a.b.c", "session_id": "x"}),
        (PasswordChangeRequest, {"current_password": "a", "new_password": "b", "user": "x"}),
    ],
)
def test_a_field_the_body_does_not_declare_is_refused(
    model: type[Any], body: dict[str, Any]
) -> None:
    [(loc, kind)] = error_types(model, body)
    assert kind == "extra_forbidden"
    assert loc[0] not in model.model_fields


@pytest.mark.parametrize("length", [0, TOKEN_MAX_LENGTH + 1])
def test_a_refresh_token_is_bounded(length: int) -> None:
    [(loc, _)] = error_types(RefreshRequest, {"refresh_token": "x" * length})
    assert loc == ("refresh_token",)
    assert RefreshRequest(refresh_token="x" * TOKEN_MAX_LENGTH).refresh_token


def test_text_postgresql_cannot_store_is_refused_on_its_field() -> None:
    [(loc, _)] = error_types(LoginRequest, {"email": "ada@example.com", "password": "a\x00b"})
    assert loc == ("password",)


def test_a_token_pair_is_of_the_bearer_type() -> None:
    pair = TokenPair(access_token="a", refresh_token="r", expires_in=900, session_id=uuid.uuid4())
    assert pair.model_dump()["token_type"] == "bearer"


def test_the_public_view_of_a_user_never_shows_its_password_hash() -> None:
    user = User(
        id=uuid.uuid4(),
        email="ada@example.com",
        password_hash="$argon2id$secret",
        full_name=None,
        roles=["user"],
        created_at=datetime.now(UTC),
    )
    shown = UserRead.model_validate(user, from_attributes=True).model_dump()
    assert set(shown) == {"id", "email", "full_name", "roles", "created_at"}
    assert "$argon2id$secret" not in str(shown)
