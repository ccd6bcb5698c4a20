"""BaseDTO: the base of every request body; unknown fields and unstorable text are rejected.

JSON can carry two things no PostgreSQL text column accepts: the NUL character and
unpaired UTF-16 surrogates (`"\\ud800"`), which have no UTF-8 form. Left to the
database they fail the INSERT (a 500); the base refuses them in every string field of
every request body, nested lists and dicts included, so each DTO gets a 422 naming the
field without a check of its own.
"""

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

UNSTORABLE_TEXT_MESSAGE = "must not contain NUL characters or unpaired surrogates"


def _has_unstorable_text(value: Any) -> bool:
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_unstorable_text(item) for item in value)
    if isinstance(value, dict):
        return any(
            _has_unstorable_text(key) or _has_unstorable_text(item) for key, item in value.items()
        )
    return False


class BaseDTO(BaseModel):
    """Request/response DTO base with `extra="forbid"` and text PostgreSQL can store."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, value: Any) -> Any:
        # "before": the raw input, so a field's own validators (e-mail syntax, lengths)
        # never see such text and the one error names the cause.
        if _has_unstorable_text(value):
            raise ValueError(UNSTORABLE_TEXT_MESSAGE)
        return value
