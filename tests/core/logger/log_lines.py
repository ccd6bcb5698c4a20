"""Reading what the logging pipeline wrote: the JSON lines of a file, after a flush."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.core.logger import stop_logger

SPEC_FIELDS = {"timestamp", "message", "level", "logger", "module", "function", "line"}


def records(path: Path) -> list[dict[str, Any]]:
    """Every JSON line of `path`, after flushing the pipeline."""
    stop_logger()
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def marked(path: Path, marker: str) -> list[dict[str, Any]]:
    return [record for record in records(path) if record["message"] == marker]
