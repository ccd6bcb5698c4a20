"""One field of a JSON object request body, for rate-limit keys read from the body."""

from __future__ import annotations

import json

import orjson


def json_body_field(body: bytes | None, name: str) -> object | None:
    """`body`'s top-level `name` if it is a JSON object; None for anything else.

    The body is read as the endpoint will read it (the standard `json` module): orjson
    answers when it finds the field as a string; anything else (a body orjson refuses
    and `json` accepts, such as NaN or a lone surrogate escape, or a value it reads
    differently, such as an integer past 64 bits) is parsed again by `json`.
    """
    if not body:
        return None
    try:
        document = orjson.loads(body)  # ~3x faster on the bodies of every login and refresh
    except orjson.JSONDecodeError:
        document = None
    if isinstance(document, dict) and isinstance(value := document.get(name), str):
        return value  # the usual key; orjson reads other values differently (big ints)
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document.get(name) if isinstance(document, dict) else None
