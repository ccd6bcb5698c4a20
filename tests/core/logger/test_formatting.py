"""The lines written: the JSON line's fields, tracebacks, and no forged lines in JSON or plain text."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.logger import configure_logging, get_logger, stop_logger
from tests.core.logger.log_lines import SPEC_FIELDS, marked, records


def test_a_record_is_one_json_line_with_exactly_the_spec_fields(log_dir: Path) -> None:
    logger = get_logger("app.tests.fields")
    line = inspect.currentframe().f_lineno + 1  # type: ignore[union-attr]
    logger.info("fields_event", extra={"attempt": 2, "to": "a@example.com"})

    (record,) = marked(log_dir / "app.json", "fields_event")
    assert set(record) == SPEC_FIELDS | {"extra"}
    assert record["level"] == "INFO"
    assert record["logger"] == "app.tests.fields"
    assert record["module"] == "test_formatting"
    assert record["function"] == "test_a_record_is_one_json_line_with_exactly_the_spec_fields"
    assert record["line"] == line
    assert record["extra"] == {"attempt": 2, "to": "a@example.com"}
    stamp = datetime.fromisoformat(record["timestamp"])
    assert stamp.utcoffset() == UTC.utcoffset(None)
    assert abs((datetime.now(UTC) - stamp).total_seconds()) < 60


def test_exception_carries_the_traceback(log_dir: Path) -> None:
    logger = get_logger("app.tests.exception")
    try:
        raise ValueError("broken on purpose")
    except ValueError:
        logger.exception("exception_event")

    (record,) = marked(log_dir / "error.json", "exception_event")
    assert record["exception"].startswith("Traceback (most recent call last):")
    assert "ValueError: broken on purpose" in record["exception"]


def test_crlf_cannot_forge_a_line_in_the_files(log_dir: Path) -> None:
    forged = 'real\r\n{"message": "forged", "level": "CRITICAL"}\u2028next'
    get_logger("app.tests.crlf").error(forged, extra={"k\nk": "v\r\nv"})

    for name in ("app.json", "error.json"):
        text = (log_dir / name).read_text() if records(log_dir / name) else ""
        assert text.count("\n") == len(text.splitlines()) == len(records(log_dir / name))
        assert [
            r["message"] for r in records(log_dir / name) if r["logger"] == "app.tests.crlf"
        ] == [forged]


def test_crlf_cannot_forge_a_line_on_the_plain_console(
    make_settings: Callable[..., Settings], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(make_settings(LOG_DIR=tmp_path / "logs", LOG_JSON_CONSOLE=False))
    logger = get_logger("app.tests.console")
    logger.warning("first\r\nFAKE 2020-01-01 CRITICAL forged\x1b[31m", extra={"k": "a\nb"})
    try:
        raise RuntimeError("boom\nFAKE 2020-01-01 CRITICAL forged")
    except RuntimeError:
        logger.exception("second")
    stop_logger()

    lines = [line for line in capsys.readouterr().err.splitlines() if line]
    ours = [line for line in lines if "app.tests.console" in line]
    assert len(ours) == 2
    assert "first\\r\\nFAKE" in ours[0]
    assert "\x1b" not in ours[0]
    continuation = lines[lines.index(ours[1]) + 1 :]
    assert continuation
    assert all(line.startswith("    | ") for line in continuation)
