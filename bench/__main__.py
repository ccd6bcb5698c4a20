"""`python -m bench` (`make bench`): run every measurement, print the table, write latest.json.

`python -m bench health me` (`make bench ENDPOINTS="health me"`) runs only the load
comparison of the endpoints named (keys of bench/endpoints.py's ENDPOINTS): a quick
check of one pair while working on it.
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

from bench import (
    endpoints,
    hashing,
    in_process,
    logger_cost,
    metrics_render,
    report,
    startup,
    user_agent,
)

Row = tuple[str, str, str]


def _statuses(ours: dict[str, Any], plain: dict[str, Any]) -> str:
    """Which statuses failed, as ' (ours 503 x1)', where the load generator counted them."""
    parts = [
        f"{name} "
        + ", ".join(f"{status} x{count}" for status, count in side["failed_statuses"].items())
        for name, side in (("ours", ours), ("plain", plain))
        if side.get("failed_statuses")
    ]
    return f" ({'; '.join(parts)})" if parts else ""


def _endpoint_rows(http: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for figures in http["endpoints"].values():
        ours, plain = figures["ours"], figures["plain"]
        failures = ours["failures"] + plain["failures"]
        rows.append(
            (
                f"{figures['title']}: ours / plain req/s",
                _ratio(figures["ratio"]),
                f"{ours['rps']:,.0f} vs {plain['rps']:,.0f} req/s; target >= "
                f"{figures['target']:.2f}x; {figures['connections']} connections"
                + (f"; {failures} FAILED requests{_statuses(ours, plain)}" if failures else ""),
            )
        )
        if ours["cpu_us_per_request"] is not None and plain["cpu_us_per_request"] is not None:
            rows.append(
                (
                    f"{figures['title']}: server CPU µs per request",
                    f"{ours['cpu_us_per_request']:,.0f} / {plain['cpu_us_per_request']:,.0f}",
                    f"ours / plain; plain / ours {_ratio(figures['cpu_ratio'])}; "
                    f"share of the core used {_share(ours)} / {_share(plain)}",
                )
            )
    return rows


def _share(side: dict[str, Any]) -> str:
    return "n/a" if side["core_share"] is None else f"{side['core_share']:.0%}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _startup_rows(figures: dict[str, Any]) -> list[Row]:
    ours, bare, targets = figures["ours"], figures["bare"], figures["targets"]
    how = f"median of {figures['starts']} starts, one uvicorn worker each, same options"
    return [
        (
            "worker ready s: ours / bare FastAPI",
            f"{ours['ready_s']:.2f} / {bare['ready_s']:.2f}",
            f"spawn to the first 200 from /health; {how}; target <= {targets['ready_s']:.1f} s",
        ),
        (
            "worker RSS MiB: ours / bare FastAPI",
            f"{ours['rss_mib']:.0f} / {bare['rss_mib']:.0f}",
            f"when ready; target <= {targets['rss_mib']:.0f} MiB",
        ),
    ]


def _in_process_rows(figures: dict[str, Any]) -> list[Row]:
    return [
        (
            "in-process µs/request: Starlette",
            f"{figures['starlette']:.1f}",
            "ASGI call, no sockets; CPU time incl. the log thread",
        ),
        ("in-process µs/request: bare FastAPI", f"{figures['bare']:.1f}", ""),
        ("in-process µs/request: our stack", f"{figures['ours']:.1f}", ""),
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
    alone, under = isolation["alone"], isolation["under_logins"]
    return [
        (
            "Argon2id hash / verify ms",
            f"{times['hash_ms']:.1f} / {times['verify_ms']:.1f}",
            "t={time_cost}, m={memory_cost_kib} KiB, p={parallelism}".format(**times["parameters"]),
        ),
        (
            "GET /health req/s: alone / while logins hash",
            f"{alone['rps']:,.0f} / {under['rps']:,.0f}",
            f"{isolation['login_connections']} concurrent logins, "
            f"{under['logins_per_s']:,.1f} logins/s",
        ),
        (
            "GET /health p99 ms while logins hash",
            f"{under['p99_ms']:.1f}",
            f"alone {alone['p99_ms']:.1f} ms; target < 25 ms"
            + (f"; {under['failures']} FAILED requests" if under["failures"] else ""),
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
Section = tuple[str, str, Callable[[Path], Any], Callable[[Any], list[Row]]]
SECTIONS: list[Section] = [
    ("http", "HTTP: our endpoints vs their plain equivalents", endpoints.compare, _endpoint_rows),
    ("startup", "worker start: time to ready and memory", startup.measure, _startup_rows),
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


def _sections(argv: list[str]) -> list[Section]:
    if not argv:
        return SECTIONS
    chosen = endpoints.selected(argv)
    return [
        (
            "http",
            SECTIONS[0][1],
            lambda workdir: endpoints.compare(workdir, endpoints=chosen),
            _endpoint_rows,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    sections = _sections(sys.argv[1:] if argv is None else argv)
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": report.machine()}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for key, title, measure, to_rows in sections:
            print(f"{title} ...", end="", file=sys.stderr, flush=True)
            section_started = time.perf_counter()
            with _console_logs_silenced():
                results[key] = measure(Path(tmp) / key)
            print(f" {time.perf_counter() - section_started:.0f} s", file=sys.stderr, flush=True)
            rows += to_rows(results[key])
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    print(report.table(rows))
    if sections is SECTIONS:  # a partial run leaves latest.json as the last full one
        path = report.write(results)
        print(f"\n{results['total_seconds']} s; written to {path}", file=sys.stderr)
    else:
        print(f"\n{results['total_seconds']} s; latest.json left as it was", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
