"""Bidirectional-text controls are escaped in JSON log lines.

A raw RIGHT-TO-LEFT OVERRIDE (U+202E) in a logged value reverses how the rest of the
line is displayed in terminals and log viewers, so a client could make a line read
differently from what it holds (CVE-2021-42574, "Trojan Source", for logs).
"""

from __future__ import annotations

import json
from pathlib import Path

from app.core.logger import get_logger, log_fields, stop_logger

BIDI_CONTROLS = [chr(code) for code in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


def test_bidi_controls_are_escaped_but_kept_in_json_lines(log_dir: Path) -> None:
    import logging

    hostile = "user" + "".join(BIDI_CONTROLS) + "nimda"
    logger = get_logger("app.tests.bidi")
    logger.info("bidi_" + BIDI_CONTROLS[4], extra={"handle": hostile})
    log_fields(logger, logging.INFO, "bidi_fields", {"handle": hostile})
    stop_logger()

    text = (log_dir / "app.json").read_text(encoding="utf-8")
    assert not [char for char in BIDI_CONTROLS if char in text]
    records = [json.loads(line) for line in text.splitlines()]
    logged = {r["message"]: r["extra"]["handle"] for r in records if "bidi" in r["message"]}
    assert logged == {"bidi_" + BIDI_CONTROLS[4]: hostile, "bidi_fields": hostile}
