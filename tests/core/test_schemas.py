"""BaseDTO rejects unknown fields, so a typo or a forged field never passes silently, and
text PostgreSQL cannot store (NUL, unpaired surrogates), so it never reaches an INSERT."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from app.core.schemas import UNSTORABLE_TEXT_MESSAGE, BaseDTO


class ItemIn(BaseDTO):
    name: str
    quantity: int = 1


def test_known_fields_validate() -> None:
    assert ItemIn.model_validate({"name": "x", "quantity": "3"}).quantity == 3


def test_unknown_field_is_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        ItemIn.model_validate({"name": "x", "is_admin": True})
    [error] = caught.value.errors()
    assert error["type"] == "extra_forbidden"
    assert error["loc"] == ("is_admin",)


def test_subclasses_inherit_the_rule() -> None:
    class Child(ItemIn):
        colour: str = "red"

    with pytest.raises(ValidationError):
        Child.model_validate({"name": "x", "size": 3})


class Note(BaseDTO):
    title: str
    tags: list[str] = Field(default_factory=list)
    fields: dict[str, str] = Field(default_factory=dict)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": "a\x00b"}, "title"),
        ({"title": "ok", "tags": ["fine", "x\ud800"]}, "tags"),
        ({"title": "ok", "fields": {"key": "\udfff"}}, "fields"),
        ({"title": "ok", "fields": {"k\x00": "v"}}, "fields"),
    ],
    ids=["nul", "surrogate-in-list", "surrogate-in-dict-value", "nul-in-dict-key"],
)
def test_any_dto_refuses_unstorable_text_naming_the_field(
    data: dict[str, object], field: str
) -> None:
    """The rule lives in the base: a DTO declares nothing to get it, nested values included."""
    with pytest.raises(ValidationError) as caught:
        Note.model_validate(data)
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert UNSTORABLE_TEXT_MESSAGE in error["msg"]


def test_ordinary_text_passes() -> None:
    assert Note.model_validate({"title": "Ünïcödé 🎉 \t\n"}).title == "Ünïcödé 🎉 \t\n"
