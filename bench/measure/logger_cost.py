"""What one `logger.info(..., extra=...)` costs the caller, against a plain stdlib logger.

Ours only snapshots the context and enqueues; the JSON formatting and the writes happen
in the listener thread. The plain stdlib logger formats and writes a line to its file in
the caller. Both calls are timed one by one (median µs); the total per record, listener
included, is given too, from the first call until `stop_logger()` has written all.
`log_fields`, the path of the per-request access line, is measured the same way: with
only our queue handler on the root logger (as in a served app), the caller queues a
tuple and the listener renders the JSON line.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from app.core.logger import (
    configure_logging,
    get_logger,
    log_fields,
    request_id_ctx,
    stop_logger,
)
from bench.apps.settings import bench_settings

CALLS = 5000
EXTRA = {"user_id": "7c1d2f4e", "attempt": 2, "path": "/api/auth/login", "ok": True}


def _median_call_us(call: Callable[[], None]) -> float:
    timings = []
    clock = time.perf_counter_ns
    for _ in range(CALLS):
        started = clock()
        call()
        timings.append(clock() - started)
    return statistics.median(timings) / 1000


def _stdlib_file_logger(path: Path) -> logging.Logger:
    plain = logging.getLogger("bench.stdlib_file")
    plain.propagate = False
    plain.setLevel(logging.INFO)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    plain.handlers = [handler]
    return plain


def _caller_and_total_us(call: Callable[[], None]) -> tuple[float, float]:
    """Median µs of one call, and µs per record until the listener has written them all."""
    started = time.perf_counter()
    caller_us = _median_call_us(call)
    stop_logger()  # waits until the listener has written every record
    return caller_us, (time.perf_counter() - started) * 1e6 / CALLS


def measure(log_dir: Path) -> dict[str, float]:
    """Median caller-side µs per call for ours and for a stdlib FileHandler logger."""
    log_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(bench_settings(log_dir))
    ours = get_logger("app.bench.logger")
    token = request_id_ctx.set("3f2b8c1e-5a4d-4e2f-9b1a-6c7d8e9f0a1b")
    try:
        ours_us, total_us = _caller_and_total_us(lambda: ours.info("bench_event", extra=EXTRA))
        fields_us, fields_total_us = _caller_and_total_us(
            lambda: log_fields(ours, logging.INFO, "bench_fields", dict(EXTRA))
        )
    finally:
        request_id_ctx.reset(token)
    plain = _stdlib_file_logger(log_dir / "stdlib.log")
    plain_us = _median_call_us(lambda: plain.info("bench_event", extra=EXTRA))
    for handler in plain.handlers:
        handler.close()
    written = sum(1 for _ in (log_dir / "app.json").open())
    assert written >= 2 * CALLS, f"only {written} of {2 * CALLS} records reached app.json"
    return {
        "ours_caller_us": round(ours_us, 2),
        "log_fields_caller_us": round(fields_us, 2),
        "log_fields_total_us_per_record": round(fields_total_us, 2),
        "stdlib_file_caller_us": round(plain_us, 2),
        "ours_total_us_per_record": round(total_us, 2),
    }
