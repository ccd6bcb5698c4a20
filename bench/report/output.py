"""The printed table and bench/results/latest.json."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parents[1] / "results" / "latest.json"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    packages = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools", "pydantic")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        **{name: _version(name) for name in packages},
    }


def _version(name: str) -> str | None:
    try:
        return version(name)
    except Exception:  # not installed
        return None


def write(results: dict[str, Any]) -> Path:
    results = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), **results}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    return RESULTS


def table(rows: list[tuple[str, str, str]]) -> str:
    """A Markdown table (it is pasted into the README as is)."""
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    header = ("measure", "figure", "notes")
    width = [max(width[i], len(header[i])) for i in range(3)]

    def line(cells: tuple[str, str, str]) -> str:
        return "| " + " | ".join(cell.ljust(width[i]) for i, cell in enumerate(cells)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in width) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
