"""`python -m bench` (`make bench`): run every measurement, print the table, write latest.json.

`python -m bench health me` (`make bench ENDPOINTS="health me"`) runs only the load
comparison of the endpoints named (keys of bench/measure/endpoints.py's ENDPOINTS): a
quick check of one pair while working on it.

Each section measures (bench/measure/, on the apps of bench/apps/ under the load of
bench/load/), then turns its figures into rows (bench/report/rows.py); the table and
latest.json come last (bench/report/output.py).
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench.measure import (
    endpoints,
    hashing,
    in_process,
    logger_cost,
    metrics_render,
    startup,
    user_agent,
)
from bench.report import output, rows
from bench.report.rows import Row

# (key in latest.json, what is measured, how, rows of the table)
Section = tuple[str, str, Callable[[Path], Any], Callable[[Any], list[Row]]]
SECTIONS: list[Section] = [
    (
        "http",
        "HTTP: our endpoints vs their plain equivalents",
        endpoints.compare,
        rows.endpoint_rows,
    ),
    ("startup", "worker start: time to ready and memory", startup.measure, rows.startup_rows),
    ("in_process_us", "in-process cost per request", in_process.measure, rows.in_process_rows),
    ("password_hashing", "password hashing isolation", hashing.measure, rows.hashing_rows),
    ("logger_us", "logger caller-side cost", logger_cost.measure, rows.logger_rows),
    ("metrics_render", "/metrics rendering", metrics_render.measure, rows.metrics_rows),
    ("user_agent_us", "User-Agent parsing", lambda _: user_agent.measure(), rows.user_agent_rows),
]


@contextlib.contextmanager
def _console_logs_silenced() -> Iterator[None]:
    """The apps built in this process log every request to stderr; keep the terminal clean."""
    saved = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            yield
        finally:
            sys.stderr = saved


def _sections(argv: list[str]) -> list[Section]:
    if not argv:
        return SECTIONS
    chosen = endpoints.selected(argv)
    return [
        (
            "http",
            SECTIONS[0][1],
            lambda workdir: endpoints.compare(workdir, endpoints=chosen),
            rows.endpoint_rows,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    sections = _sections(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": output.machine()}
    table: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for key, title, measure, to_rows in sections:
            print(f"{title} ...", end="", file=sys.stderr, flush=True)
            section_started = time.perf_counter()
            with _console_logs_silenced():
                results[key] = measure(Path(tmp) / key)
            print(f" {time.perf_counter() - section_started:.0f} s", file=sys.stderr, flush=True)
            table += to_rows(results[key])
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    print(output.table(table))
    if sections is SECTIONS:  # a partial run leaves latest.json as the last full one
        path = output.write(results)
        print(f"\n{results['total_seconds']} s; written to {path}", file=sys.stderr)
    else:
        print(f"\n{results['total_seconds']} s; latest.json left as it was", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
