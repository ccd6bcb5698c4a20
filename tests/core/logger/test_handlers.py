"""The destinations: the level each file takes, rotation at the size limit, stderr in batches."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest

from app.core.logger import MAX_BYTES, get_logger, stop_logger
from app.core.logger.handlers import LogFileHandler, StderrHandler
from app.core.logger.redaction import MAX_SCRUB_CHARS
from tests.core.logger.log_lines import records


def test_levels_go_to_their_files(log_dir: Path) -> None:
    logger = get_logger("app.tests.levels")
    for level in ("debug", "info", "warning", "error", "critical"):
        getattr(logger, level)(f"level_{level}")

    def levels(name: str) -> list[str]:
        return [r["level"] for r in records(log_dir / name) if r["logger"] == "app.tests.levels"]

    assert levels("app.json") == ["INFO", "WARNING", "ERROR", "CRITICAL"]
    assert levels("error.json") == ["ERROR", "CRITICAL"]


def test_files_rotate_at_the_size_limit_keeping_five_backups(log_dir: Path) -> None:
    logger = get_logger("app.tests.rotation")
    # A quarter of a file per record, in fields short enough that redaction keeps them whole.
    piece = "x" * (MAX_SCRUB_CHARS // 2)
    chunk = {f"c{i}": piece for i in range(MAX_BYTES // 4 // len(piece))}
    count = 21  # 3 records fill a file (a 4th would pass the limit): 7 files' worth
    for n in range(count):
        logger.info("rotation_event", extra={"n": n, **chunk})
    stop_logger()

    files = sorted(log_dir.glob("app.json*"))
    assert [f.name for f in files] == ["app.json", *(f"app.json.{n}" for n in range(1, 6))]
    assert all(f.stat().st_size <= MAX_BYTES for f in files)
    kept = [r["extra"]["n"] for f in files for r in records(f) if r["message"] == "rotation_event"]
    # Each file holds 3 chunks (4 would pass the limit); the newest 18 records are kept.
    assert sorted(kept) == list(range(count - 18, count))
    assert (log_dir / "app.json.1").stat().st_size > MAX_BYTES * 3 // 4


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("app.tests.handlers", logging.INFO, __file__, 1, message, None, None)


def test_file_size_is_counted_in_utf8_bytes_and_rolls_over_before_overflowing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.json"
    handler = LogFileHandler(path, logging.INFO)
    handler.setFormatter(logging.Formatter("%(message)s"))
    # 3 bytes a character: just over half a file in bytes, a sixth of it in characters.
    half = "€" * (MAX_BYTES // 6 + 1)
    try:
        handler.handle(_record(half))
        handler.handle(_record(half))  # would pass the limit: a new file first
    finally:
        handler.close()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.json", "app.json.1"]
    assert path.read_text(encoding="utf-8") == half + "\n"
    assert (tmp_path / "app.json.1").read_text(encoding="utf-8") == half + "\n"


def test_a_reopened_file_counts_what_it_already_holds_and_closes_it_on_rollover(
    tmp_path: Path,
) -> None:
    """A restarted process finds its file nearly full: the first line rolls it over, and
    the file just opened is closed, not leaked (a ResourceWarning fails the test)."""
    path = tmp_path / "app.json"
    path.write_bytes(b"x" * (MAX_BYTES - 10) + b"\n")  # left by the previous process
    handler = LogFileHandler(path, logging.INFO)
    handler.setFormatter(logging.Formatter("%(message)s"))
    try:
        handler.handle(_record("a line longer than ten bytes"))
    finally:
        handler.close()

    assert path.read_text(encoding="utf-8") == "a line longer than ten bytes\n"
    assert (tmp_path / "app.json.1").stat().st_size == MAX_BYTES - 9


def test_stderr_lines_wait_for_the_flush_and_go_to_the_stderr_of_that_moment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handler = StderrHandler(logging.INFO)
    handler.setFormatter(logging.Formatter("%(message)s"))
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    handler.handle(_record("one"))
    handler.handle(_record("two"))
    assert first.getvalue() == ""
    handler.flush()
    assert first.getvalue() == "one\ntwo\n"

    monkeypatch.setattr(sys, "stderr", second)  # a test runner swapped it
    handler.handle(_record("three"))
    handler.close()
    assert second.getvalue() == "three\n"
    assert first.getvalue() == "one\ntwo\n"


def test_a_closed_stderr_drops_the_batch_without_raising(monkeypatch: pytest.MonkeyPatch) -> None:
    handler = StderrHandler(logging.INFO)
    handler.setFormatter(logging.Formatter("%(message)s"))
    closed = io.StringIO()
    closed.close()
    monkeypatch.setattr(sys, "stderr", closed)
    handler.handle(_record("lost"))
    handler.flush()  # ValueError from the closed stream stays inside

    working = io.StringIO()
    monkeypatch.setattr(sys, "stderr", working)
    handler.handle(_record("kept"))
    handler.flush()
    assert working.getvalue() == "kept\n"
