"""Each section's figures (as latest.json holds them) as rows of the table: (measure,
figure, notes)."""

from __future__ import annotations

from typing import Any

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


def endpoint_rows(http: dict[str, Any]) -> list[Row]:
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


def startup_rows(figures: dict[str, Any]) -> list[Row]:
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


def in_process_rows(figures: dict[str, Any]) -> list[Row]:
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


def hashing_rows(figures: dict[str, Any]) -> list[Row]:
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


def logger_rows(figures: dict[str, float]) -> list[Row]:
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


def metrics_rows(figures: dict[str, float]) -> list[Row]:
    return [
        (
            f"/metrics with {figures['series']:,} series ms",
            f"{figures['get_metrics_ms']:.1f}",
            f"whole GET in-process; exposition alone {figures['render_ms']:.1f} ms",
        ),
    ]


def user_agent_rows(figures: dict[str, float]) -> list[Row]:
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
