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

Several workers: each process writes its own file set, `app.<n>.json` and
`error.<n>.json`, whenever WORKERS > 1 or PROMETHEUS_MULTIPROC_DIR is set; `n` is the
lowest slot free in LOG_DIR (`slots.py`), so restarts reuse the same files instead of
piling up one set per PID. Rotation renames files, and two processes rotating one file
lose or interleave records; with one writer per file no cross-process lock is needed.

Safety: fields of `extra` (nested too) named like password, token, secret, authorization,
cookie, api key or credential are replaced by "[REDACTED]", and Bearer/Basic
credentials in text are masked. A CR/LF cannot forge a line: JSON (orjson) escapes
every control character, U+0085, U+2028 and U+2029 too, and the plain console escapes
control characters; the only multi-line output there is a traceback, every line of
which is indented.
"""

from app.core.logger.context import request_id_ctx, user_id_ctx
from app.core.logger.formatting import JsonFormatter, PlainFormatter
from app.core.logger.handlers import MAX_BYTES
from app.core.logger.pipeline import (
    ContextQueueHandler,
    configure_logging,
    get_logger,
    log_fields,
    stop_logger,
)
from app.core.logger.redaction import REDACTED, redact, scrub

__all__ = [
    "MAX_BYTES",
    "REDACTED",
    "ContextQueueHandler",
    "JsonFormatter",
    "PlainFormatter",
    "configure_logging",
    "get_logger",
    "log_fields",
    "redact",
    "request_id_ctx",
    "scrub",
    "stop_logger",
    "user_id_ctx",
]
