"""BaseDTO rejects unknown fields, so a typo or a forged field never passes silently."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.schemas import BaseDTO


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
