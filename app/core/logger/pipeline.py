"""The queue, its root handler and the listener thread; configuring and stopping them."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from logging.handlers import QueueHandler, QueueListener
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any

from app.core.logger.context import request_id_ctx, user_id_ctx
from app.core.logger.formatting import (
    REQUEST_ID_ATTR,
    STANDARD_ATTRS,
    USER_ID_ATTR,
    JsonFormatter,
    PendingRecord,
    PlainFormatter,
)
from app.core.logger.handlers import LineHandler, LogFileHandler, StderrHandler
from app.core.logger.slots import worker_slot

if TYPE_CHECKING:
    from app.core.config import Settings

LISTENER_LINGER_SECONDS = 0.02  # the longest a line waits while the server is busy
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


class ContextQueueHandler(QueueHandler):
    """Snapshots request/user context onto the record and enqueues it; no I/O here."""

    def __init__(self, queue: SimpleQueue[Any], pipeline: _Pipeline) -> None:
        super().__init__(queue)
        self._pipeline = pipeline

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record.message = record.getMessage()  # args may be mutated after the call
        record.__dict__[REQUEST_ID_ATTR] = request_id_ctx.get()
        record.__dict__[USER_ID_ATTR] = user_id_ctx.get()
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

    def enqueue_pending(self, pending: PendingRecord) -> None:
        """Queue a record for the listener to build (see `log_fields`)."""
        if not self._pipeline.running:
            self._pipeline.ensure_running()
        self.queue.put_nowait(pending)


class _Listener(QueueListener):
    """QueueListener that works in batches: it takes all that is queued, writes it, flushes.

    After a batch it lingers a moment before waiting on the queue again. Waiting per
    record woke this thread for every line, and each wake-up made it trade the GIL (and,
    on one core, the CPU) with the event loop: `make bench` measured ~2.7 context
    switches and ~240 µs of CPU per logged request. Lingering lets a busy server's
    lines pile up and be written together, a few dozen wake-ups a second whatever the
    load; a quiet process still gets each line written at once. `stop()` cuts the
    linger short.
    """

    queue: SimpleQueue[Any]
    _sentinel = None  # what QueueListener.enqueue_sentinel() queues (not in typeshed)

    def __init__(self, queue: SimpleQueue[Any], *handlers: logging.Handler, **kwargs: Any):
        super().__init__(queue, *handlers, **kwargs)
        self._stopping = threading.Event()
        # Every destination takes the JSON line as is: a `log_fields` call then needs no
        # LogRecord at all, only its line.
        self._json_lines_only = all(
            isinstance(handler, LineHandler)
            and isinstance(handler.formatter, JsonFormatter)
            and not handler.filters
            for handler in handlers
        )

    def _monitor(self) -> None:
        """Take everything queued, handle it, flush, linger; end after the sentinel."""
        queue = self.queue
        while True:
            batch = [queue.get()]
            with contextlib.suppress(Empty):
                while True:
                    batch.append(queue.get_nowait())
            stop = False
            for item in batch:
                if item is self._sentinel:
                    stop = True  # records queued while stopping follow it: write them too
                else:
                    self.handle(item)
            for handler in self.handlers:
                try:
                    handler.flush()
                except Exception:  # a full disk must not end the thread either
                    self._report_error()
            if stop:
                return
            self._stopping.wait(LISTENER_LINGER_SECONDS)

    def enqueue_sentinel(self) -> None:
        super().enqueue_sentinel()
        self._stopping.set()

    def _write_line(self, pending: PendingRecord) -> None:
        line = pending.json_line()
        for handler in self.handlers:
            if pending.level >= handler.level:
                try:
                    handler.write_line(line)  # type: ignore[attr-defined]  # all LineHandlers
                except Exception:
                    handler.handleError(pending.build())

    def prepare(self, record: logging.LogRecord | PendingRecord) -> logging.LogRecord:
        return record.build() if isinstance(record, PendingRecord) else record

    def handle(self, record: logging.LogRecord | PendingRecord) -> None:
        try:
            if isinstance(record, PendingRecord) and self._json_lines_only:
                self._write_line(record)
            else:
                super().handle(record)  # type: ignore[arg-type]  # prepare() builds a PendingRecord
        except Exception:
            # A record that cannot be built or rendered (a field whose str() and repr()
            # both raise, a failing record factory) must not end this thread and with it
            # every later line; report it the way logging reports a failing handler.
            self._report_error()

    @staticmethod
    def _report_error() -> None:
        if logging.raiseExceptions:
            traceback.print_exc(file=sys.stderr)


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
        if self.per_process_files:
            name = f"{stem}.{worker_slot(self.directory)}.json"
        else:
            name = f"{stem}.json"
        return self.directory / name

    def build_handlers(self) -> tuple[logging.Handler, ...]:
        self.directory.mkdir(parents=True, exist_ok=True)
        json_formatter = JsonFormatter()
        app_file = LogFileHandler(self.file_path("app"), logging.INFO)
        error_file = LogFileHandler(self.file_path("error"), logging.ERROR)
        console = StderrHandler(self.level)
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
    if not STANDARD_ATTRS.isdisjoint(fields):
        raise KeyError(
            f"fields overwrite log record attributes: {sorted(STANDARD_ATTRS & fields.keys())}"
        )
    frame = sys._getframe(1)
    code = frame.f_code
    pending = PendingRecord(
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
