"""`json_body_field`: a rate-limit key read from a JSON body as the endpoint reads it."""

from __future__ import annotations

import json

import pytest

from app.core.ratelimit import json_body_field


def test_json_body_field_reads_one_top_level_field() -> None:
    assert json_body_field(b'{"sku": "A-1", "n": 2}', "sku") == "A-1"
    assert json_body_field(b'{"n": 2}', "sku") is None
    assert json_body_field(b'["sku"]', "sku") is None
    assert json_body_field(b"not json", "sku") is None
    assert json_body_field(None, "sku") is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"sku": "A-1", "price": NaN}',
        b'{"sku": "A-1", "note": "\\ud800"}',
        b'{"sku": "A-1", "n": 123456789012345678901234567890}',
        b'{"sku": "B-2", "sku": "A-1"}',
    ],
)
def test_json_body_field_reads_every_body_the_endpoint_reads(body: bytes) -> None:
    """A body the endpoint's parser accepts must not escape its rate-limit key."""
    assert json.loads(body)["sku"] == "A-1"
    assert json_body_field(body, "sku") == "A-1"


def test_json_body_field_gives_numbers_as_the_endpoint_reads_them() -> None:
    big = 123456789012345678901234567890
    assert json_body_field(f'{{"n": {big}}}'.encode(), "n") == big
    assert json_body_field(b'{"n": 2}', "n") == 2


# --- registration ----------------------------------------------------------------------
