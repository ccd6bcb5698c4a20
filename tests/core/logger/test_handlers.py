"""The destinations: the level each file takes, rotation at the size limit."""

from __future__ import annotations

from pathlib import Path

from app.core.logger import MAX_BYTES, get_logger, stop_logger
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
