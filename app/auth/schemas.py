"""Request and response bodies of `/api/auth`.

Request bodies forbid unknown fields (BaseDTO). The password policy depends on Settings,
so its lengths are checked by the service with `PasswordSecurity.check_policy`, not here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from app.auth.models import EMAIL_MAX_LENGTH, FULL_NAME_MAX_LENGTH
from app.core.schemas import BaseDTO
from app.core.security.emails import normalize_email

# A JWT is a few hundred bytes; the cap only bounds work spent on junk.
TOKEN_MAX_LENGTH = 4096


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


Email = Annotated[
    str,
    AfterValidator(normalize_email),
    Field(
        examples=["ada@example.com"],
        json_schema_extra={"format": "email", "maxLength": EMAIL_MAX_LENGTH},
    ),
]
"""An address in its one normal form (`normalize_email`): one mailbox, one account.

The login limiter keys on the same function, so every spelling shares one budget.
"""


class RegisterRequest(BaseDTO):
    email: Email
    password: str = Field(examples=["correct horse battery staple"])
    full_name: (
        Annotated[str, BeforeValidator(_strip), Field(max_length=FULL_NAME_MAX_LENGTH)] | None
    ) = None


class LoginRequest(BaseDTO):
    email: Email
    password: str


class PasswordChangeRequest(BaseDTO):
    current_password: str
    new_password: str = Field(examples=["another horse battery staple"])


class RefreshRequest(BaseDTO):
    refresh_token: str = Field(min_length=1, max_length=TOKEN_MAX_LENGTH)


class UserRead(BaseModel):
    """The public view of an account (never its password hash)."""

    id: uuid.UUID
    email: str
    full_name: str | None
    roles: list[str]
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int = Field(description="Lifetime of the access token in seconds.")
    session_id: uuid.UUID


class SessionRead(BaseModel):
    """One active login of the caller; `current` marks the one making this request."""

    id: uuid.UUID
    fingerprint: str | None
    ip: str | None
    created_at: datetime
    last_used_at: datetime
    current: bool
