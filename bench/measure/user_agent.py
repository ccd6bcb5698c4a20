"""User-Agent parsing cost: a client never seen before, a repeat client, a hostile header.

Measured through the DeviceInfo extractor the middleware uses. "Cold" requests carry a
User-Agent that no cache has seen (a real one with a unique version number), "cached"
ones repeat a header, and "hostile" ones are distinct 10 KB headers built to make regex
engines work hard.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from app.core.http.device import DeviceInfoExtractor

REAL_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{n}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.{n} Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{n}.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 17_{n} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{n}.0) Gecko/20100101 Firefox/{n}.0",
    "Mozilla/5.0 (compatible; Googlebot/2.{n}; +http://www.google.com/bot.html)",
)


def _scope(user_agent: str) -> dict[str, Any]:
    return {
        "type": "http",
        "headers": [(b"user-agent", user_agent.encode("latin-1", "replace"))],
        "client": ("203.0.113.7", 50000),
    }


def _hostile(n: int) -> str:
    # Long runs of the characters UA regexes branch on, never a clean token end.
    return f"Mozilla/5.0 ({n} " + "Android; Mobile " * 200 + "(" * 2500 + "a" * 5000


def _timed_us(extract: DeviceInfoExtractor, scope: dict[str, Any]) -> float:
    # CPU time of this thread: a preemption by another process is not the parser's cost.
    started = time.thread_time_ns()
    extract(scope)
    return (time.thread_time_ns() - started) / 1000


def _p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def measure(samples: int = 400) -> dict[str, float]:
    """Median (and worst) µs of one extraction: cold, cached and hostile 10 KB.

    The first parses of a process compile the parser's regexes on demand; they are
    reported apart ("first parse") and kept out of the steady-state figures.
    """
    extract = DeviceInfoExtractor()
    started = time.perf_counter()
    for template in REAL_USER_AGENTS:
        extract(_scope(template.format(n=1)))
    for n in range(5):
        extract(_scope(_hostile(n)))
    warmup_ms = (time.perf_counter() - started) * 1000
    cold = [
        _timed_us(extract, _scope(REAL_USER_AGENTS[i % len(REAL_USER_AGENTS)].format(n=1000 + i)))
        for i in range(samples)
    ]
    repeat = _scope(REAL_USER_AGENTS[0].format(n=126))
    extract(repeat)
    cached = []
    for _ in range(5):  # too short to time one by one: batches, median of their means
        started = time.perf_counter()
        for _ in range(samples * 10):
            extract(repeat)
        cached.append((time.perf_counter() - started) * 1e6 / (samples * 10))
    hostile_scopes = [_scope(_hostile(n)) for n in range(100, 200)]
    assert all(len(scope["headers"][0][1]) >= 10_000 for scope in hostile_scopes)
    hostile = [_timed_us(extract, scope) for scope in hostile_scopes]
    return {
        "first_parses_ms": round(warmup_ms, 1),
        "cold_us": round(statistics.median(cold), 1),
        "cold_p99_us": round(_p99(cold), 1),
        "cached_us": round(statistics.median(cached), 2),
        "hostile_10kb_us": round(statistics.median(hostile), 1),
        "hostile_10kb_p99_us": round(_p99(hostile), 1),
        "hostile_10kb_max_us": round(max(hostile), 1),
    }
