"""`python -m bench` (`make bench`): run every measurement, print the table, write latest.json."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import (
    hashing,
    http_compare,
    in_process,
    logger_cost,
    metrics_render,
    report,
    user_agent,
)

Row = tuple[str, str, str]


def _http_rows(http: dict[str, Any]) -> list[Row]:
    bare, ours = http["bare"], http["ours"]
    notes = (
        f"{http['generator']}, {http['connections']} connections, "
        f"{http['rounds']} rounds x {http['seconds_per_round']:g} s, fresh servers each, medians"
    )
    rows = [
        ("bare FastAPI req/s", f"{bare['rps']:,.0f}", notes),
        ("our full stack req/s", f"{ours['rps']:,.0f}", "all six middleware, JSON request logs"),
        ("ratio ours / bare", f"{http['ratio']:.2f}x", "target >= 0.80x"),
        ("bare p50 / p99 ms", f"{bare['p50_ms']:.2f} / {bare['p99_ms']:.2f}", ""),
        ("ours p50 / p99 ms", f"{ours['p50_ms']:.2f} / {ours['p99_ms']:.2f}", ""),
    ]
    bare_cpu, ours_cpu = bare.get("cpu_us_per_request"), ours.get("cpu_us_per_request")
    if bare_cpu is not None and ours_cpu is not None and http.get("cpu_ratio") is not None:
        rows.append(
            (
                "server CPU per request µs: bare / ours",
                f"{bare_cpu:.0f} / {ours_cpu:.0f}",
                f"ratio bare / ours {http['cpu_ratio']:.2f}x; utime+stime of the server process",
            )
        )
    for kind, label in (
        ("ours_no_access_log", "ours with LOG_ACCESS=false req/s"),
        ("floor", "floor (bench/floor.py) req/s"),
    ):
        cpu = http[kind].get("cpu_us_per_request")
        rows.append(
            (
                label,
                f"{http[kind]['rps']:,.0f}",
                f"ratio to bare {http[f'ratio_{kind}']:.2f}x"
                + (f"; server CPU {cpu:.0f} µs per request" if cpu is not None else ""),
            )
        )
    return rows


def _in_process_rows(figures: dict[str, Any]) -> list[Row]:
    return [
        (
            "in-process µs/request: Starlette",
            f"{figures['starlette']:.1f}",
            "ASGI call, no sockets; CPU time incl. the log thread",
        ),
        ("in-process µs/request: bare FastAPI", f"{figures['bare']:.1f}", ""),
        ("in-process µs/request: our stack", f"{figures['ours']:.1f}", ""),
        (
            "in-process µs/request: floor",
            f"{figures['floor']:.1f}",
            "bench/floor.py: the least code doing the same per-request work",
        ),
        ("in-process µs added by our stack", f"{figures['added_us']:+.1f}", "ours - bare"),
        (
            "in-process µs, endpoint in app/api.py",
            f"{figures['api_router_us']:+.1f}",
            "where a service adds its routes: FastAPI tries /api/auth first",
        ),
        (
            "in-process µs, endpoint behind core routes",
            f"{figures['core_routes_us']:+.1f}",
            "behind FastAPI's docs routes, /api/auth and the core routes",
        ),
        *(
            (
                f"in-process µs of {_COMPONENT_LABELS.get(name, name)}",
                f"{cost:+.1f}",
                "our stack minus our stack without it" if number == 0 else "",
            )
            for number, (name, cost) in enumerate(figures["component_us"].items())
        ),
    ]


_COMPONENT_LABELS = {
    "access_log": "the access line (LOG_ACCESS)",
    "RequestIDMiddleware": "RequestIDMiddleware + access line",
}


def _hashing_rows(figures: dict[str, Any]) -> list[Row]:
    times, isolation = figures["times"], figures["isolation"]
    offload, inline = isolation["offload"], isolation["inline"]
    logins = f"{isolation['login_connections']} concurrent logins"
    return [
        (
            "Argon2id hash / verify ms",
            f"{times['hash_ms']:.1f} / {times['verify_ms']:.1f}",
            "t={time_cost}, m={memory_cost_kib} KiB, p={parallelism}".format(**times["parameters"]),
        ),
        (
            "trivial req/s, logins offloaded",
            f"{offload['rps']:,.0f}",
            f"{logins}, p99 {offload['p99_ms']:.1f} ms (target < 25 ms)",
        ),
        (
            "trivial req/s, logins inline",
            f"{inline['rps']:,.0f}",
            f"{logins} hashing on the event loop, p99 {inline['p99_ms']:.0f} ms",
        ),
        (
            "offloaded / inline req/s",
            f"{isolation['rps_ratio_offload_to_inline']:.1f}x",
            "target >= 5x",
        ),
    ]


def _hashing(workdir: Path) -> dict[str, Any]:
    return {
        "times": hashing.hash_times_ms(workdir / "logs"),
        "isolation": hashing.isolation(workdir),
    }


def _logger_rows(figures: dict[str, float]) -> list[Row]:
    return [
        (
            "logger.info(extra=...) caller µs",
            f"{figures['ours_caller_us']:.1f}",
            f"median; plain stdlib file logger: {figures['stdlib_file_caller_us']:.1f} µs",
        ),
        (
            "logger µs per record, all threads",
            f"{figures['ours_total_us_per_record']:.1f}",
            "caller + listener thread (JSON, files, console)",
        ),
        (
            "log_fields (access line) caller / all threads µs",
            f"{figures['log_fields_caller_us']:.1f} / "
            f"{figures['log_fields_total_us_per_record']:.1f}",
            "the listener renders the line; same JSON as logger.info",
        ),
    ]


def _metrics_rows(figures: dict[str, float]) -> list[Row]:
    return [
        (
            f"/metrics with {figures['series']:,} series ms",
            f"{figures['get_metrics_ms']:.1f}",
            f"whole GET in-process; exposition alone {figures['render_ms']:.1f} ms",
        ),
    ]


def _user_agent_rows(figures: dict[str, float]) -> list[Row]:
    return [
        (
            "User-Agent parse µs: new / cached",
            f"{figures['cold_us']:.1f} / {figures['cached_us']:.2f}",
            f"new UA p99 {figures['cold_p99_us']:.0f} µs (CPU time)",
        ),
        (
            "hostile 10 KB User-Agent µs",
            f"{figures['hostile_10kb_us']:.1f}",
            f"p99 {figures['hostile_10kb_p99_us']:.0f} µs, max {figures['hostile_10kb_max_us']:.0f} µs "
            "(limit 1,000)",
        ),
    ]


# (key in latest.json, what is measured, how, rows of the table)
SECTIONS: list[tuple[str, str, Callable[[Path], Any], Callable[[Any], list[Row]]]] = [
    ("http", "HTTP: bare FastAPI vs our stack", http_compare.compare, _http_rows),
    ("in_process_us", "in-process cost per request", in_process.measure, _in_process_rows),
    ("password_hashing", "password hashing isolation", _hashing, _hashing_rows),
    ("logger_us", "logger caller-side cost", logger_cost.measure, _logger_rows),
    ("metrics_render", "/metrics rendering", metrics_render.measure, _metrics_rows),
    ("user_agent_us", "User-Agent parsing", lambda _: user_agent.measure(), _user_agent_rows),
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


def main() -> int:
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": report.machine()}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for key, title, measure, to_rows in SECTIONS:
            print(f"{title} ...", file=sys.stderr, flush=True)
            with _console_logs_silenced():
                results[key] = measure(Path(tmp) / key)
            rows += to_rows(results[key])
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    path = report.write(results)
    print(report.table(rows))
    print(f"\n{results['total_seconds']} s; written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
