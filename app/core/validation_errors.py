"""Sanitising pydantic validation errors before they are echoed to the client.

A raw `RequestValidationError.errors()` list is unsafe to return as-is:
- `ctx` may hold exception objects (`{"error": ValueError(...)}`) that JSON can't encode;
- `input` echoes what the client sent, which can be megabytes, and for a "missing field"
  error on a body it is the whole body, password included.
So only JSON scalars of `ctx` are kept, echoed input is bounded in size and depth, the
input of any error whose location names a secret field is dropped, and the values of
secret-looking keys inside echoed objects are replaced.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from app.core.logger.redaction import REDACTED, is_secret_name

MAX_ERRORS = 50
MAX_ECHO_DEPTH = 2
MAX_ECHO_ITEMS = 20
MAX_ECHO_CHARS = 256
MAX_KEY_CHARS = 64
MAX_INT_BITS = 128


def _bounded_str(text: str, limit: int = MAX_ECHO_CHARS) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def bounded(value: Any, depth: int = 0) -> Any:
    """A JSON-safe, size-bounded copy of `value` with secret-looking keys redacted."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return (
            value if value.bit_length() <= MAX_INT_BITS else f"<int of {value.bit_length()} bits>"
        )
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _bounded_str(value)
    if isinstance(value, bytes | bytearray):
        return _bounded_str(bytes(value[: MAX_ECHO_CHARS + 1]).decode("latin-1"))
    if depth >= MAX_ECHO_DEPTH and isinstance(value, Mapping | list | tuple | set | frozenset):
        return "…"
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for index, (key, item) in enumerate(value.items()):
            if index >= MAX_ECHO_ITEMS:
                out["…"] = f"{len(value) - MAX_ECHO_ITEMS} more"
                break
            name = _bounded_str(str(key), MAX_KEY_CHARS)
            out[name] = REDACTED if is_secret_name(name, echoed=True) else bounded(item, depth + 1)
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        echoed = [bounded(item, depth + 1) for item in items[:MAX_ECHO_ITEMS]]
        if len(items) > MAX_ECHO_ITEMS:
            echoed.append(f"… {len(items) - MAX_ECHO_ITEMS} more")
        return echoed
    return f"<{type(value).__name__}>"


def sanitize_error(error: Mapping[str, Any]) -> dict[str, Any]:
    """One pydantic error reduced to type, loc, msg, and the safe parts of input and ctx."""
    loc = [part if isinstance(part, str | int) else str(part) for part in error.get("loc", ())]
    clean: dict[str, Any] = {
        "type": str(error.get("type", "")),
        "loc": [
            _bounded_str(part, MAX_KEY_CHARS) if isinstance(part, str) else part for part in loc
        ],
        "msg": _bounded_str(str(error.get("msg", ""))),
    }
    secret = any(isinstance(part, str) and is_secret_name(part, echoed=True) for part in loc)
    if "input" in error and not secret:
        clean["input"] = bounded(error["input"])
    ctx = error.get("ctx")
    if isinstance(ctx, Mapping):
        scalars = {
            str(key): bounded(item)
            for key, item in ctx.items()
            if item is None or isinstance(item, str | int | float | bool)
        }
        if scalars:
            clean["ctx"] = scalars
    return clean


def is_undecoded_body(error: Mapping[str, Any]) -> bool:
    """The error is about a whole request body that was not decoded as JSON.

    FastAPI decodes a body as JSON only when its Content-Type says JSON; under any
    other type the model is validated against the raw bytes.
    """
    return tuple(error.get("loc", ())) == ("body",) and isinstance(
        error.get("input"), bytes | bytearray
    )


def sanitize_errors(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """At most MAX_ERRORS sanitised errors."""
    out: list[dict[str, Any]] = []
    for error in errors:
        if len(out) >= MAX_ERRORS:
            break
        out.append(sanitize_error(error))
    return out
