"""Where the listener writes: rotating JSON files and stderr, both a batch at a time."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5


class LineHandler(logging.Handler):
    """A handler that writes formatted lines; the listener hands it ready JSON lines too."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write_line(self.format(record))
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def write_line(self, line: str) -> None:
        raise NotImplementedError


class LogFileHandler(LineHandler, RotatingFileHandler):
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

    def write_line(self, line: str) -> None:
        """Append one formatted line, rolling the file over first if it would overflow."""
        line += "\n"
        size = len(line) if line.isascii() else len(line.encode("utf-8"))
        stream = self.stream
        if not stream:
            # Kept on the handler before any rollover, which closes the stream it holds.
            stream = self.stream = self._open()
        if self._size and self._size + size > self.maxBytes:
            self.doRollover()
            stream = self.stream = self._open()
        stream.write(line)
        self._size += size


class StderrHandler(LineHandler, logging.StreamHandler):  # type: ignore[type-arg]
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
