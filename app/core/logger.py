"""Structured, non-blocking logging with request/user context.

Every logger propagates to the root logger, whose one handler of ours is a
`ContextQueueHandler`. In the calling thread it does only the cheap part: merge the
message arguments, snapshot `request_id_ctx`/`user_id_ctx` onto the record, render a
traceback to text, and put the record on a queue. A `QueueListener` thread does the
rest (redaction, formatting, all I/O) to:

    LOG_DIR/app.json     INFO+      JSON lines, rotating at 10 MB, 5 backups
    LOG_DIR/error.json   ERROR+     same
    stderr               LOG_LEVEL+ JSON in production/staging, plain text elsewhere
                                    (coloured on a development terminal); LOG_JSON_CONSOLE
                                    overrides

uvicorn's loggers and SQLAlchemy's are routed through the same pipeline; SQLAlchemy is
held at WARNING because its INFO lines echo every statement with its parameters.

Lifecycle: `configure_logging(settings)` is idempotent and re-targetable: the same
settings again change nothing, other settings flush and close the current files and
open the new ones (the root handler is never duplicated). `stop_logger()` flushes every
queued record and closes the files; it is safe to call twice, and a record logged after
it restarts the listener lazily rather than being lost. An atexit hook flushes at exit.

Several workers: each worker writes its own file set, `app.<pid>.json` and
`error.<pid>.json`, whenever WORKERS > 1 or PROMETHEUS_MULTIPROC_DIR is set. Rotation
renames files, and two processes rotating one file lose or interleave records; with one
writer per file no cross-process lock is needed.

Safety: fields of `extra` (nested too) named like password, token, secret, authorization,
cookie, api key or credential are replaced by "[REDACTED]", and Bearer/Basic
credentials in text are masked. A CR/LF cannot forge a line: JSON (orjson) escapes
every control character, U+0085, U+2028 and U+2029 too, and the plain console escapes
control characters; the only multi-line output there is a traceback, every line of
which is indented.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import io
import json
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from logging.handlers import QueueHandler, QueueListener, RotatingFileHandler
from pathlib import Path
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

if TYPE_CHECKING:
    from app.core.config import Settings

__all__ = [
    "ContextQueueHandler",
    "configure_logging",
    "get_logger",
    "log_fields",
    "request_id_ctx",
    "stop_logger",
    "user_id_ctx",
]

request_id_ctx: ContextVar[str | None] = ContextVar("request_id", default=None)
user_id_ctx: ContextVar[str | None] = ContextVar("user_id", default=None)

MAX_BYTES = 10 * 1024 * 1024
LISTENER_LINGER_SECONDS = 0.02  # the longest a line waits while the server is busy
BACKUP_COUNT = 5
REDACTED = "[REDACTED]"
MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Libraries whose loggers would otherwise inherit the root level.
LIBRARY_LEVELS = {
    "sqlalchemy": logging.WARNING,  # INFO echoes statements and their parameters
    "pymongo": logging.WARNING,  # DEBUG carries whole command documents
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "python_multipart": logging.INFO,
}
# Loggers that get their own handlers from uvicorn's default config; ours wins.
ROUTED_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")

_REQUEST_ID = "_ctx_request_id"
_USER_ID = "_ctx_user_id"
_JSON_CACHE = "_json_line"
_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName", _REQUEST_ID, _USER_ID, _JSON_CACHE}
    | {"color_message"}  # uvicorn's ANSI copy of the message
)

_SENSITIVE_KEY = re.compile(
    r"pass(?:word|wd|phrase)|secret|token|authorization|cookie|api[-_]?key|credential|jwt",
    re.IGNORECASE,
)
_CREDENTIALS_IN_TEXT = re.compile(
    r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"
    r"|\b(authorization|cookie|set-cookie)(\s*[:=]\s*)[^\r\n]*"
    r"|\b(\w*(?:password|passwd|secret|token|api_?key)\w*)=[^\s&;,]+"
)


def _mask_credentials(match: re.Match[str]) -> str:
    if match[1]:
        return f"{match[1]} {REDACTED}"
    if match[2]:
        return f"{match[2]}{match[3]}{REDACTED}"
    return f"{match[4]}={REDACTED}"


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
)


def scrub(text: str) -> str:
    """Mask credentials that appear inside free text (messages, tracebacks, values)."""
    if len(text) <= _SCRUB_CACHED_LENGTH:
        return _scrub_short(text)
    return _scrub(text)


def _scrub(text: str) -> str:
    lowered = text.lower()
    if not any(hint in lowered for hint in _CREDENTIAL_HINTS):
        return text
    return _CREDENTIALS_IN_TEXT.sub(_mask_credentials, text)


# Short texts repeat (event names, methods, route templates, client IPs): a cached
# answer is a dict lookup instead of lower-casing and eight substring searches.
_SCRUB_CACHED_LENGTH = 128
_scrub_short = lru_cache(maxsize=4096)(_scrub)


@lru_cache(maxsize=4096)
def _is_sensitive(key: str) -> bool:
    return _SENSITIVE_KEY.search(key) is not None


def _is_sensitive_name(name: object) -> bool:
    if type(name) is str:
        return _is_sensitive(name)
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    return isinstance(name, str) and _is_sensitive(name)


_PLAIN_TYPES = frozenset({int, float, bool, type(None)})


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of `value` with sensitive fields replaced by "[REDACTED]", nested too."""
    kind = type(value)
    if kind is str:
        return scrub(value)
    if kind in _PLAIN_TYPES or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return scrub(value)
    if _depth > 10:
        return "[TRUNCATED]"
    if kind is dict or isinstance(value, Mapping):
        return {
            key: REDACTED if _is_sensitive_name(key) else redact(item, _depth + 1)
            for key, item in value.items()
        }
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


def _extra_of(record: logging.LogRecord) -> dict[str, Any]:
    return {key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRS}


_second_cache: tuple[int, str] = (-1, "")


def _timestamp(created: float) -> str:
    """UTC ISO 8601 with milliseconds; the date-time part is formatted once per second."""
    global _second_cache
    second = int(created)
    cached_second, prefix = _second_cache
    if second != cached_second:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_cache = (second, prefix)
    return f"{prefix}.{int((created - second) * 1000):03d}+00:00"


def _exception_text(record: logging.LogRecord) -> str | None:
    parts = [part for part in (record.exc_text, record.stack_info) if part]
    return scrub("\n".join(parts)) if parts else None


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
    """One JSON log line with the spec's fields; `extra` already redacted."""
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
    # orjson escapes the ASCII control characters; these three still end a line for
    # str.splitlines() and many log tools, so a message must not carry them raw.
    return text if text.isascii() else text.translate(_LINE_BREAKS_OUTSIDE_ASCII)


def _record_json_line(record: logging.LogRecord, extra: dict[str, Any] | None) -> str:
    """The record's JSON line, its `extra` fields given (already redacted)."""
    request_id = record.__dict__.get(_REQUEST_ID) or (extra or {}).pop("request_id", None)
    return _json_line(
        record.created,
        _message_of(record),
        record.levelname,
        record.name,
        record.module,
        record.funcName,
        record.lineno,
        request_id,
        record.__dict__.get(_USER_ID),
        extra,
        _exception_text(record),
    )


_LINE_BREAKS_OUTSIDE_ASCII = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


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
_ESCAPES = {
    code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if code != 0x09
} | {0x0A: "\\n", 0x0D: "\\r", 0x2028: "\\u2028", 0x2029: "\\u2029"}
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
        request_id = record.__dict__.get(_REQUEST_ID) or extra.pop("request_id", None)
        user_id = record.__dict__.get(_USER_ID)
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


class _LogFileHandler(RotatingFileHandler):
    """RotatingFileHandler that counts bytes itself and leaves flushing to the listener.

    The stdlib one seeks and formats twice per record to decide on rollover; this one
    adds up what it wrote. It flushes when the listener's queue runs dry, so a burst is
    written in a few syscalls and a quiet process has everything on disk.
    """

    def __init__(self, path: Path, level: int) -> None:
        super().__init__(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
        )
        self.setLevel(level)
        self._size = 0

    def _open(self) -> io.TextIOWrapper:
        stream = super()._open()
        self._size = os.fstat(stream.fileno()).st_size
        return stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def write_line(self, line: str) -> None:
        """Append one formatted line, rolling the file over first if it would overflow."""
        line += "\n"
        size = len(line) if line.isascii() else len(line.encode("utf-8"))
        stream = self.stream or self._open()
        if self._size and self._size + size > self.maxBytes:
            self.doRollover()
            stream = self._open()
        self.stream = stream
        stream.write(line)
        self._size += size


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is now (test runners swap it), a batch at a time.

    sys.stderr is line-buffered: a write per record costs a syscall per record, and each
    syscall lets the event loop take the GIL back in the middle of a batch. Lines wait
    for the listener's flush (its queue ran dry) or for `close()`, and go out at once.
    """

    def __init__(self, level: int) -> None:
        logging.Handler.__init__(self, level)
        self._pending: list[str] = []

    @property
    def stream(self) -> Any:
        return sys.stderr

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def write_line(self, line: str) -> None:
        """Hold one formatted line for the next flush."""
        self._pending.append(line + self.terminator)

    def flush(self) -> None:
        if not self._pending:
            return
        lines, self._pending = "".join(self._pending), []
        # A closed (ValueError) or broken (OSError) stderr must not stop the file logs.
        with contextlib.suppress(OSError, ValueError):
            stream = self.stream
            stream.write(lines)
            stream.flush()

    def close(self) -> None:
        self.flush()
        super().close()


class ContextQueueHandler(QueueHandler):
    """Snapshots request/user context onto the record and enqueues it; no I/O here."""

    def __init__(self, queue: SimpleQueue[Any], pipeline: _Pipeline) -> None:
        super().__init__(queue)
        self._pipeline = pipeline

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.message = record.getMessage()  # args may be mutated after the call
        record.__dict__[_REQUEST_ID] = request_id_ctx.get()
        record.__dict__[_USER_ID] = user_id_ctx.get()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        return record

    def handle(self, record: logging.LogRecord) -> bool:
        # No handler lock: the queue is thread-safe and the record is this call's own.
        result = self.filter(record)
        if isinstance(result, logging.LogRecord):  # Python 3.12+ filters may swap it
            record = result
        if result:
            self.emit(record)
        return bool(result)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if not self._pipeline.running:
                self._pipeline.ensure_running()
            self.enqueue(self.prepare(record))
        except Exception:
            self.handleError(record)

    def enqueue_pending(self, pending: _Pending) -> None:
        """Queue a record for the listener to build (see `log_fields`)."""
        if not self._pipeline.running:
            self._pipeline.ensure_running()
        self.queue.put_nowait(pending)


class _Listener(QueueListener):
    """QueueListener that works in batches and flushes whenever the queue runs dry.

    After a batch it lingers a moment before waiting on the queue again. Waiting per
    record woke this thread for every line, and each wake-up made it trade the GIL (and,
    on one core, the CPU) with the event loop: `make bench` measured ~2.7 context
    switches and ~240 µs of CPU per logged request. Lingering lets a busy server's
    lines pile up and be written together, a few dozen wake-ups a second whatever the
    load; a quiet process still gets each line written at once. `stop()` cuts the
    linger short.
    """

    queue: SimpleQueue[Any]

    def __init__(self, queue: SimpleQueue[Any], *handlers: logging.Handler, **kwargs: Any):
        super().__init__(queue, *handlers, **kwargs)
        self._stopping = threading.Event()
        # Every destination takes the JSON line as is: a `log_fields` call then needs no
        # LogRecord at all, only its line.
        self._json_lines_only = all(
            isinstance(handler, _LogFileHandler | _StderrHandler)
            and isinstance(handler.formatter, JsonFormatter)
            and not handler.filters
            for handler in handlers
        )

    def dequeue(self, block: bool) -> Any:
        if self.queue.empty():
            self._stopping.wait(LISTENER_LINGER_SECONDS)
        return self.queue.get(block)

    def enqueue_sentinel(self) -> None:
        super().enqueue_sentinel()
        self._stopping.set()

    def _write_line(self, pending: _Pending) -> None:
        line = pending.json_line()
        for handler in self.handlers:
            if pending.level >= handler.level:
                try:
                    handler.write_line(line)  # type: ignore[attr-defined]
                except Exception:
                    handler.handleError(pending.build())

    def prepare(self, record: logging.LogRecord | _Pending) -> logging.LogRecord:
        return record.build() if isinstance(record, _Pending) else record

    def handle(self, record: logging.LogRecord | _Pending) -> None:
        if isinstance(record, _Pending) and self._json_lines_only:
            self._write_line(record)
        else:
            super().handle(record)  # type: ignore[arg-type]  # prepare() builds a _Pending
        if self.queue.empty():
            for handler in self.handlers:
                handler.flush()


@dataclass(frozen=True, slots=True)
class LogConfig:
    """Where and how records are written; built from Settings by `configure_logging`."""

    directory: Path
    level: int
    json_console: bool
    colour: bool = False
    per_process_files: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> LogConfig:
        json_console = settings.LOG_JSON_CONSOLE
        if json_console is None:
            json_console = settings.ENVIRONMENT in ("production", "staging")
        return cls(
            directory=Path(settings.LOG_DIR),
            level=logging.getLevelName(settings.LOG_LEVEL),
            json_console=json_console,
            colour=settings.ENVIRONMENT == "development" and sys.stderr.isatty(),
            per_process_files=settings.WORKERS > 1 or bool(os.environ.get(MULTIPROC_DIR_ENV)),
        )

    def file_path(self, stem: str) -> Path:
        name = f"{stem}.{os.getpid()}.json" if self.per_process_files else f"{stem}.json"
        return self.directory / name

    def build_handlers(self) -> tuple[logging.Handler, ...]:
        self.directory.mkdir(parents=True, exist_ok=True)
        json_formatter = JsonFormatter()
        app_file = _LogFileHandler(self.file_path("app"), logging.INFO)
        error_file = _LogFileHandler(self.file_path("error"), logging.ERROR)
        console = _StderrHandler(self.level)
        app_file.setFormatter(json_formatter)
        error_file.setFormatter(json_formatter)
        console.setFormatter(json_formatter if self.json_console else PlainFormatter(self.colour))
        return app_file, error_file, console


class _Pipeline:
    """The process-wide queue, its root handler and the listener thread writing it out."""

    def __init__(self) -> None:
        self.queue: SimpleQueue[Any] = SimpleQueue()
        self.handler = ContextQueueHandler(self.queue, self)
        self.config: LogConfig | None = None
        self.running = False
        self._listener: _Listener | None = None
        self._handlers: tuple[logging.Handler, ...] = ()
        self._lock = threading.RLock()
        self._atexit_registered = False

    def configure(self, config: LogConfig) -> None:
        with self._lock:
            root = logging.getLogger()
            root.setLevel(config.level)
            if self.handler not in root.handlers:
                root.addHandler(self.handler)
            for name in ROUTED_LOGGERS:
                routed = logging.getLogger(name)
                # Handlers of their own (uvicorn's default dictConfig) are replaced by ours;
                # a logger left without handlers and not propagating (uvicorn's
                # access_log=False) stays off.
                if routed.handlers:
                    for handler in list(routed.handlers):
                        routed.removeHandler(handler)
                    routed.propagate = True
            for name, level in LIBRARY_LEVELS.items():
                logging.getLogger(name).setLevel(level)
            if config == self.config and self.running:
                return
            self._stop()
            self.config = config
            self._start()
            if not self._atexit_registered:
                atexit.register(self.stop)
                self._atexit_registered = True

    def is_sole_destination(self, logger: logging.Logger, level: int) -> bool:
        """Whether a record of `logger` at `level` meets no handler or filter but our handler."""
        handler = self.handler
        if handler.filters or level < handler.level:
            return False
        reached = False
        current: logging.Logger | None = logger
        while current is not None:
            if current.filters:
                return False
            for other in current.handlers:
                if other is not handler:
                    return False
                reached = True
            if not current.propagate:
                break
            current = current.parent
        return reached

    def ensure_running(self) -> None:
        """Restart the listener for a record logged after `stop()` (never from the listener)."""
        listener = self._listener
        if listener is not None and threading.current_thread() is listener._thread:
            return
        with self._lock:
            if not self.running and self.config is not None:
                self._start()

    def stop(self) -> None:
        with self._lock:
            self._stop()

    def _start(self) -> None:
        if self.config is None:
            return
        self._handlers = self.config.build_handlers()
        self._listener = _Listener(self.queue, *self._handlers, respect_handler_level=True)
        self._listener.start()
        self.running = True

    def _stop(self) -> None:
        # `running` stays True while joining, so a record logged meanwhile is only queued.
        if self._listener is not None:
            self._listener.stop()  # the sentinel goes after every queued record
            self._listener = None
        self.running = False
        for handler in self._handlers:
            handler.close()
        self._handlers = ()


_pipeline = _Pipeline()


def configure_logging(settings: Settings) -> None:
    """Install the pipeline for these settings (idempotent, re-targets on new settings)."""
    _pipeline.configure(LogConfig.from_settings(settings))


def get_logger(name: str) -> logging.Logger:
    """A domain-scoped logger, e.g. `get_logger("app.auth.service")`."""
    return logging.getLogger(name)


class _Pending(NamedTuple):
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
        attributes[_REQUEST_ID] = self.request_id
        attributes[_USER_ID] = self.user_id
        attributes[_JSON_CACHE] = self.json_line()
        return record

    def json_line(self) -> str:
        """The line JsonFormatter writes for the built record, without building it."""
        extra = redact(self.fields) if self.fields else None
        request_id = self.request_id or (extra or {}).pop("request_id", None)
        return _json_line(
            self.created,
            self.message,
            logging.getLevelName(self.level),
            self.logger_name,
            _module_of(self.pathname),
            self.function,
            self.lineno,
            request_id,
            self.user_id,
            extra,
        )


@lru_cache(maxsize=1024)
def _module_of(pathname: str) -> str:
    """LogRecord.module for a path: the file name without its extension."""
    return os.path.splitext(os.path.basename(pathname))[0]


def log_fields(logger: logging.Logger, level: int, message: str, fields: dict[str, Any]) -> None:
    """`logger.log(level, message, extra=fields)` for hot paths, at a fraction of the cost.

    The line written is the one `logger.log` writes. The call site is read from the
    caller's frame (no stack walk), and the JSON is rendered from `fields` directly
    rather than picked out of the record's attributes. When the pipeline's queue is the
    only place the record can go, the record itself is built by the listener thread;
    otherwise (another handler or a filter on the way) it is built here and handled as
    usual. The access log writes one line per request through this.

    `fields` is kept as given: pass a dict the caller no longer changes.
    """
    if not logger.isEnabledFor(level):
        return
    if not _STANDARD_ATTRS.isdisjoint(fields):
        raise KeyError(
            f"fields overwrite log record attributes: {sorted(_STANDARD_ATTRS & fields.keys())}"
        )
    frame = sys._getframe(1)
    code = frame.f_code
    pending = _Pending(
        time.time(),
        logger.name,
        level,
        code.co_filename,
        frame.f_lineno,
        code.co_name,
        message,
        fields,
        request_id_ctx.get(),
        user_id_ctx.get(),
    )
    if _pipeline.is_sole_destination(logger, level):
        _pipeline.handler.enqueue_pending(pending)
    else:
        logger.handle(pending.build())


def stop_logger() -> None:
    """Flush every queued record and stop the listener thread (safe to call twice)."""
    _pipeline.stop()
