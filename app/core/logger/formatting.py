"""Log lines: the JSON line (files, production console), the plain line (development).

`PendingRecord` is a `log_fields` call not yet made into a LogRecord: the listener thread
renders its line, or builds the record where a handler needs one.
"""

from __future__ import annotations

import json
import logging
import os
import time
from functools import lru_cache
from typing import Any, NamedTuple

import orjson

from app.core.logger.redaction import redact, scrub

REQUEST_ID_ATTR = "_ctx_request_id"
USER_ID_ATTR = "_ctx_user_id"
_JSON_CACHE = "_json_line"
STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", REQUEST_ID_ATTR, USER_ID_ATTR, _JSON_CACHE}
    | {"color_message"}  # uvicorn's ANSI copy of the message
)


def _extra_of(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in STANDARD_ATTRS}


@lru_cache(maxsize=1)
def _second_prefix(second: int) -> str:
    # One entry: lines arrive in time order, so the date-time is formatted once per second.
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def _timestamp(created: float) -> str:
    """UTC ISO 8601 with milliseconds."""
    second = int(created)
    return f"{_second_prefix(second)}.{int((created - second) * 1000):03d}+00:00"


def _exception_text(record: logging.LogRecord) -> str | None:
    parts = [part for part in (record.exc_text, record.stack_info) if part]
    return scrub("\n".join(parts)) if parts else None


def _lifted_user_id(context_user_id: str | None, extra: dict[str, Any] | None) -> str | None:
    """The line's top-level `user_id`: the context's, else one passed in `extra`.

    A log query by user then finds every line about the user in one field, whether the
    line was written while serving the user's token or by code naming the user
    explicitly. An `extra` user that differs from the context's one (someone acting on
    another account) stays in `extra`.
    """
    if not extra or "user_id" not in extra:
        return context_user_id
    if context_user_id is None:
        lifted = extra.pop("user_id")
        return None if lifted is None else str(lifted)
    if str(extra["user_id"]) == context_user_id:
        del extra["user_id"]
    return context_user_id


def _json_line(
    created: float,
    message: str,
    level: str,
    logger: str,
    module: str,
    function: str | None,
    line: int,
    request_id: str | None,
    user_id: str | None,
    extra: dict[str, Any] | None,
    exception: str | None = None,
) -> str:
    """One JSON log line with the spec's fields; `extra` already redacted (and ours to
    change: a `request_id` or `user_id` in it stands in for a missing context one)."""
    if request_id is None and extra:
        request_id = extra.pop("request_id", None)
    user_id = _lifted_user_id(user_id, extra)
    payload: dict[str, Any] = {
        "timestamp": _timestamp(created),
        "message": scrub(message),
        "level": level,
        "logger": logger,
        "module": module,
        "function": function,
        "line": line,
    }
    if request_id is not None:
        payload["request_id"] = request_id
    if user_id is not None:
        payload["user_id"] = user_id
    if extra:
        payload["extra"] = extra
    if exception is not None:
        payload["exception"] = exception
    try:
        encoded = orjson.dumps(payload, default=str, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # a cycle or huge int inside extra: keep the record
        payload["extra"] = repr(payload.get("extra"))
        encoded = orjson.dumps(payload, default=str)
    text = encoded.decode()
    # orjson escapes the ASCII control characters; these still end a line for
    # str.splitlines() and many log tools, or reorder how a line is displayed (bidi
    # overrides and isolates), so a logged value must not carry them raw.
    return text if text.isascii() else text.translate(_ESCAPED_OUTSIDE_ASCII)


def _record_json_line(record: logging.LogRecord, extra: dict[str, Any] | None) -> str:
    """The record's JSON line, its `extra` fields given (already redacted)."""
    return _json_line(
        record.created,
        _message_of(record),
        record.levelname,
        record.name,
        record.module,
        record.funcName,
        record.lineno,
        record.__dict__.get(REQUEST_ID_ATTR),
        record.__dict__.get(USER_ID_ATTR),
        extra,
        _exception_text(record),
    )


_BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_ESCAPED_OUTSIDE_ASCII = {
    code: f"\\u{code:04x}" for code in (0x85, 0x2028, 0x2029, *_BIDI_CONTROLS)
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the spec's fields; formatted once per record."""

    def format(self, record: logging.LogRecord) -> str:
        cached: str | None = record.__dict__.get(_JSON_CACHE)
        if cached is not None:
            return cached
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        extra = _extra_of(record)
        line = _record_json_line(record, redact(extra) if extra else None)
        record.__dict__[_JSON_CACHE] = line
        return line


# Control characters (incl. Unicode line separators and ESC) shown escaped on the console.
_ESCAPES = (
    {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code != 0x09}
    | {code: f"\\u{code:04x}" for code in (0x2028, 0x2029, *_BIDI_CONTROLS)}
    | {0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}
)
_COLOURS = {
    "DEBUG": "\x1b[2m",
    "INFO": "\x1b[32m",
    "WARNING": "\x1b[33m",
    "ERROR": "\x1b[31m",
    "CRITICAL": "\x1b[1;31m",
}
_RESET = "\x1b[0m"


class PlainFormatter(logging.Formatter):
    """`time LEVEL logger message key=value {extra}`, one line per record, for people."""

    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        parts = [record.name, scrub(_message_of(record))]
        extra = _extra_of(record)
        request_id = record.__dict__.get(REQUEST_ID_ATTR) or extra.pop("request_id", None)
        user_id = _lifted_user_id(record.__dict__.get(USER_ID_ATTR), extra)
        for label, value in (("request_id", request_id), ("user_id", user_id)):
            if value is not None:
                parts.append(f"{label}={value}")
        if extra:
            parts.append(json.dumps(redact(extra), default=str))
        level = f"{record.levelname:<8}"
        if self.colour:
            level = f"{_COLOURS.get(record.levelname, '')}{level}{_RESET}"
        line = f"{_timestamp(record.created)} {level} {' '.join(parts).translate(_ESCAPES)}"
        exception = _exception_text(record)
        if exception:
            body = "\n".join(f"    | {row.translate(_ESCAPES)}" for row in exception.split("\n"))
            line = f"{line}\n{body}"
        return line


def _message_of(record: logging.LogRecord) -> str:
    message = record.__dict__.get("message")
    return message if isinstance(message, str) else record.getMessage()


class PendingRecord(NamedTuple):
    """A `log_fields` call whose LogRecord the listener thread builds.

    Taken when the record's only destination is this pipeline's queue (no other handler
    or filter on the way): building, redacting and rendering then happen in the listener's
    batch loop instead of on the event loop, a request's access line costs the loop a
    tuple and a queue put, and the line written is the same.
    """

    created: float
    logger_name: str
    level: int
    pathname: str
    lineno: int
    function: str
    message: str
    fields: dict[str, Any]
    request_id: str | None
    user_id: str | None

    def build(self) -> logging.LogRecord:
        record = logging.getLogRecordFactory()(
            self.logger_name,
            self.level,
            self.pathname,
            self.lineno,
            self.message,
            None,
            None,
            self.function,
        )
        attributes = record.__dict__
        # When the call was made, not when the listener got to it.
        attributes["relativeCreated"] += (self.created - record.created) * 1000
        attributes["created"] = self.created
        attributes["msecs"] = (self.created - int(self.created)) * 1000 // 1
        attributes.update(self.fields)
        attributes["message"] = self.message
        attributes[REQUEST_ID_ATTR] = self.request_id
        attributes[USER_ID_ATTR] = self.user_id
        attributes[_JSON_CACHE] = self.json_line()
        return record

    def json_line(self) -> str:
        """The line JsonFormatter writes for the built record, without building it."""
        return _json_line(
            self.created,
            self.message,
            logging.getLevelName(self.level),
            self.logger_name,
            _module_of(self.pathname),
            self.function,
            self.lineno,
            self.request_id,
            self.user_id,
            redact(self.fields) if self.fields else None,
        )


@lru_cache(maxsize=1024)
def _module_of(pathname: str) -> str:
    """LogRecord.module for a path: the file name without its extension."""
    return os.path.splitext(os.path.basename(pathname))[0]
