"""Masking secrets: sensitive field names in structured data, credentials in free text."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

REDACTED = "[REDACTED]"
MAX_DEPTH = 10  # deeper structures are logged as "[TRUNCATED]"

# The one policy for secrets, with one marker: log fields and `key=value` pairs in logged
# text here, echoed validation input in `app.core.validation_errors`.
SECRET_NAME = re.compile(
    r"pass(?:word|wd|phrase)|secret|token|api[-_]?key|authori[sz]ation|credential"
    r"|private[-_]?key|cookie|signature|jwt",
    re.IGNORECASE,
)
# Linear by construction: no quantifier nests another or overlaps its neighbour, and a
# `key=value` key starts only where no word character or dash precedes it, so each run
# of characters is scanned once; the key is then checked against SECRET_NAME in Python.
_CREDENTIALS_IN_TEXT = re.compile(
    r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"
    r"|\b(authorization|cookie|set-cookie)(\s*[:=]\s*)[^\r\n]*"
    r"|(?<![\w-])([\w-]+)=([^\s&;,]+)"
)
# Longer text is cut to this before scanning: a log line has no use for more, and the
# scan's cost stays bounded whatever a client sends.
MAX_SCRUB_CHARS = 65_536
TRUNCATED_MARK = "…[truncated]"


# Session ids stay in the logs on purpose (they tie a session's lines together) but are
# never echoed back to a client.
_SESSION_ID = re.compile(r"session[-_]?id", re.IGNORECASE)


def is_secret_name(name: str, *, echoed: bool = False) -> bool:
    """Whether a field, key or header name looks like it holds a secret (password, token...).

    `echoed`: the value would go back to a client (a validation error's input), where
    session ids count as secrets too.
    """
    return _is_sensitive(name) or (echoed and _SESSION_ID.search(name) is not None)


def _mask_credentials(match: re.Match[str]) -> str:
    if match[1]:
        return f"{match[1]} {REDACTED}"
    if match[2]:
        return f"{match[2]}{match[3]}{REDACTED}"
    # A flag is no secret: `CORS_ALLOW_CREDENTIALS=true` in a settings warning stays readable.
    if _is_sensitive(match[4]) and match[5].lower() not in _FLAGS:
        return f"{match[4]}={REDACTED}"
    return match[0]


_FLAGS = frozenset({"true", "false"})


# Words that must appear (lower-cased) before the slower regex above is worth running.
_CREDENTIAL_HINTS = (
    "bearer",
    "basic",
    "authorization",
    "cookie",
    "passw",
    "secret",
    "token",
    "key",
    "credential",
    "signature",
    "jwt",
)


def scrub(text: str) -> str:
    """Mask credentials that appear inside free text (messages, tracebacks, values)."""
    if len(text) <= _SCRUB_CACHED_LENGTH:
        return _scrub_short(text)
    return _scrub(text)


def _scrub(text: str) -> str:
    if len(text) > MAX_SCRUB_CHARS:
        text = text[:MAX_SCRUB_CHARS] + TRUNCATED_MARK
    lowered = text.lower()
    if not any(hint in lowered for hint in _CREDENTIAL_HINTS):
        return text
    return _CREDENTIALS_IN_TEXT.sub(_mask_credentials, text)


# Short texts repeat (event names, methods, route templates, client IPs): a cached
# answer is a dict lookup instead of lower-casing and eight substring searches.
_SCRUB_CACHED_LENGTH = 128
_scrub_short = lru_cache(maxsize=4096)(_scrub)


_CACHED_KEY_LENGTH = 256  # longer names are checked uncached, so no huge key is kept


@lru_cache(maxsize=4096)
def _is_sensitive_cached(key: str) -> bool:
    return SECRET_NAME.search(key) is not None


def _is_sensitive(key: str) -> bool:
    if len(key) <= _CACHED_KEY_LENGTH:
        return _is_sensitive_cached(key)
    return SECRET_NAME.search(key) is not None


def _is_sensitive_name(name: object) -> bool:
    if type(name) is str:
        return _is_sensitive(name)
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return isinstance(name, str) and _is_sensitive(name)


_PLAIN_TYPES = frozenset({int, float, bool, type(None)})


def _redact_mapping(mapping: Mapping[Any, Any], depth: int) -> dict[Any, Any]:
    # The usual item (a str key, a plain or short str value) is handled here, not by a
    # call to redact() per value: the access line's five fields cost half as much.
    redacted: dict[Any, Any] = {}
    for key, item in mapping.items():
        if _is_sensitive(key) if type(key) is str else _is_sensitive_name(key):
            redacted[key] = REDACTED
            continue
        kind = type(item)
        if kind in _PLAIN_TYPES:
            redacted[key] = item
        elif kind is str and len(item) <= _SCRUB_CACHED_LENGTH:
            redacted[key] = _scrub_short(item)
        else:
            redacted[key] = redact(item, depth + 1)
    return redacted


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of `value` with sensitive fields replaced by "[REDACTED]", nested too."""
    kind = type(value)
    if kind is str:
        return scrub(value)
    if kind is dict and _depth <= MAX_DEPTH:
        return _redact_mapping(value, _depth)
    if kind in _PLAIN_TYPES or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub(value)
    if _depth > MAX_DEPTH:
        return "[TRUNCATED]"
    if isinstance(value, Mapping):
        return _redact_mapping(value, _depth)
    if isinstance(value, list | tuple | set | frozenset):
        if len(value) == 2 and isinstance(value, tuple) and _is_sensitive_name(value[0]):
            name = value[0].decode("latin-1") if isinstance(value[0], bytes) else value[0]
            return [name, REDACTED]  # a (header name, value) pair
        return [redact(item, _depth + 1) for item in value]
    if isinstance(value, bytes):
        return scrub(value.decode("utf-8", "replace"))
    dump = getattr(value, "model_dump", None)  # pydantic models: fields, not repr
    if callable(dump):
        return redact(dump(mode="json"), _depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return redact(dataclasses.asdict(value), _depth + 1)
    return value
