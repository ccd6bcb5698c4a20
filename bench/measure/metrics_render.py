"""Time to render /metrics when the registry holds 2,000 series.

Series are added to a bench counter on the app's own registry until the exposition has
2,000 sample lines; then the exposition is rendered directly and fetched through the
whole app (GET /metrics with its bearer token, in-process, no sockets).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from asgi_lifespan import LifespanManager

from app.core.metrics.prometheus import prometheus
from bench.apps.ours import ours_app

SERIES = 2000
SAMPLES = 15


def _sample_lines(exposition: bytes) -> int:
    return sum(1 for line in exposition.splitlines() if line and not line.startswith(b"#"))


def _fill(series: int) -> int:
    """Add label sets to a bench counter until the exposition has `series` sample lines."""
    counter = prometheus.register_counter(
        "bench_render_series_total", "Series that only exist to size the exposition", ["key"]
    )
    key = 0
    lines = _sample_lines(prometheus.render())
    while lines < series:
        counter.labels(key=f"k{key}").inc()
        key += 1
        if key % 100 == 0 or lines + 2 >= series:
            lines = _sample_lines(prometheus.render())
    return lines


async def _get_metrics_ms(log_dir: Path) -> float:
    app = ours_app(log_dir)
    settings = app.state.settings
    assert settings.METRICS_AUTH_TOKEN is not None
    token = settings.METRICS_AUTH_TOKEN.get_secret_value().encode()
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/metrics",
        "raw_path": b"/metrics",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", b"Bearer " + token)],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    times = []
    async with LifespanManager(app) as manager:
        for _ in range(SAMPLES):
            started = time.perf_counter()
            await app({**scope, "state": dict(manager._state)}, receive, send)
            times.append((time.perf_counter() - started) * 1000)
    assert set(statuses) == {200}, statuses
    return statistics.median(times)


def measure(log_dir: Path) -> dict[str, float]:
    """Median ms of rendering the exposition, and of a whole GET /metrics."""
    lines = _fill(SERIES)
    renders = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        prometheus.render()
        renders.append((time.perf_counter() - started) * 1000)
    return {
        "series": lines,
        "render_ms": round(statistics.median(renders), 2),
        "get_metrics_ms": round(asyncio.run(_get_metrics_ms(log_dir)), 2),
    }
