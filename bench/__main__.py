"""`python -m bench` (`make bench`): run every measurement, print the table, write latest.json."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import http_compare, in_process, report


def _http_rows(http: dict[str, Any]) -> list[tuple[str, str, str]]:
    bare, ours = http["bare"], http["ours"]
    notes = (
        f"{http['generator']}, {http['connections']} connections, "
        f"{http['rounds']} interleaved rounds x {http['seconds_per_round']:g} s, medians"
    )
    return [
        ("bare FastAPI req/s", f"{bare['rps']:,.0f}", notes),
        ("our full stack req/s", f"{ours['rps']:,.0f}", "all six middleware, JSON request logs"),
        ("ratio ours / bare", f"{http['ratio']:.2f}x", "target >= 0.80x"),
        ("bare p50 / p99 ms", f"{bare['p50_ms']:.2f} / {bare['p99_ms']:.2f}", ""),
        ("ours p50 / p99 ms", f"{ours['p50_ms']:.2f} / {ours['p99_ms']:.2f}", ""),
    ]


def _in_process_rows(figures: dict[str, float]) -> list[tuple[str, str, str]]:
    return [
        (
            "in-process µs/request: Starlette",
            f"{figures['starlette']:.1f}",
            "ASGI call, no sockets",
        ),
        ("in-process µs/request: bare FastAPI", f"{figures['bare']:.1f}", ""),
        ("in-process µs/request: our stack", f"{figures['ours']:.1f}", ""),
        ("in-process µs added by our stack", f"{figures['added_us']:+.1f}", "ours - bare"),
    ]


def main() -> int:
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": report.machine()}
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        print("HTTP: bare FastAPI vs our stack ...", file=sys.stderr, flush=True)
        results["http"] = http_compare.compare(workdir / "http")
        rows += _http_rows(results["http"])
        print("in-process cost per request ...", file=sys.stderr, flush=True)
        results["in_process_us"] = in_process.measure(workdir / "in-process-logs")
        rows += _in_process_rows(results["in_process_us"])
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    path = report.write(results)
    print(report.table(rows))
    print(f"\n{results['total_seconds']} s; written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
