"""One field of a JSON object request body, for rate-limit keys read from the body."""

from __future__ import annotations

import json


def json_body_field(body: bytes | None, name: str) -> object | None:
    """`body`'s top-level `name` if it is a JSON object; None for anything else."""
    if not body:
        return None
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return document.get(name) if isinstance(document, dict) else None
