"""The lines written: the JSON line's fields, tracebacks, and no forged lines in JSON or plain text."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.logger import configure_logging, get_logger, stop_logger
from app.core.logger.formatting import REQUEST_ID_ATTR, USER_ID_ATTR, JsonFormatter, PlainFormatter
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


def _record(context_user: str | None = None, **extra: Any) -> logging.LogRecord:
    """A record as the queue handler leaves it: the context's user (none for request) set."""
    return logging.makeLogRecord(
        {
            "name": "app.tests.format",
            "levelno": logging.WARNING,
            "levelname": "WARNING",
            "msg": "formatted_event",
            REQUEST_ID_ATTR: None,
            USER_ID_ATTR: context_user,
            **extra,
        }
    )


def _json(record: logging.LogRecord) -> dict[str, Any]:
    line: dict[str, Any] = json.loads(JsonFormatter().format(record))
    return line


def test_a_user_id_in_extra_is_the_lines_user_when_the_context_has_none() -> None:
    line = _json(_record(None, user_id_extra="x", user_id=42))
    assert line["user_id"] == "42"
    assert line["extra"] == {"user_id_extra": "x"}


def test_the_context_user_wins_and_another_user_in_extra_stays_there() -> None:
    same = _json(_record("u-1", user_id="u-1", action="login"))
    assert (same["user_id"], same["extra"]) == ("u-1", {"action": "login"})
    other = _json(_record("admin-1", user_id="u-2", action="ban"))
    assert (other["user_id"], other["extra"]) == ("admin-1", {"user_id": "u-2", "action": "ban"})


def test_a_request_id_in_extra_stands_in_for_a_missing_context_one() -> None:
    line = _json(_record(request_id="req-from-task", job="cleanup"))
    assert line["request_id"] == "req-from-task"
    assert line["extra"] == {"job": "cleanup"}


def test_a_value_json_cannot_hold_keeps_the_line_with_extra_as_text() -> None:
    line = _json(_record(huge=2**70))
    assert line["message"] == "formatted_event"
    assert line["extra"] == repr({"huge": 2**70})


def test_the_plain_line_reads_time_level_logger_message_ids_then_extra() -> None:
    record = _record("u-9", request_id="req-7", attempt=2)
    line = PlainFormatter().format(record)
    stamp, rest = line.split(" ", 1)
    assert datetime.fromisoformat(stamp).utcoffset() == UTC.utcoffset(None)
    assert (
        rest
        == 'WARNING  app.tests.format formatted_event request_id=req-7 user_id=u-9 {"attempt": 2}'
    )


def test_only_a_coloured_plain_line_carries_the_levels_colour() -> None:
    record = _record()
    coloured = PlainFormatter(colour=True).format(record)
    assert "\x1b[33mWARNING \x1b[0m" in coloured
    assert "\x1b" not in PlainFormatter().format(record)
