"""From load runs to the reported figures: medians per side, ratios per round.

Ours and the plain app are measured in the same rounds (fresh servers each, one after
the other), so each round gives one ratio; the reported ratio is the median of those.
Pairing within a round cancels drift of the shared machine between rounds, which a
ratio of the two medians would not.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from typing import Any

from bench.load.generator import LoadResult

Run = tuple[LoadResult, float | None]  # one load run and the server CPU µs per request


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def _ratio(numerators: list[float | None], denominators: list[float | None]) -> float | None:
    """Median of the per-round quotients; None when any round lacks a figure."""
    quotients = [
        n / d for n, d in zip(numerators, denominators, strict=True) if n is not None and d
    ]
    if not quotients or len(quotients) != len(numerators):
        return None
    return round(statistics.median(quotients), 3)


def _core_share(runs: list[Run]) -> float | None:
    """Median share of a core the server used while loaded (served/s x CPU s per request).

    Near 1.0 the server was the bottleneck and req/s mirrors CPU per request. Well below,
    something else held it back (other processes on its core, the database, the client),
    and the CPU figures are the ones to compare.
    """
    shares = [
        result.served / result.seconds * cpu_us / 1e6
        for result, cpu_us in runs
        if cpu_us is not None and result.seconds
    ]
    if not shares or len(shares) != len(runs):
        return None
    return round(statistics.median(shares), 2)


def _counted(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for count in counts:
        total.update(count)
    return dict(sorted(total.items()))


def side(runs: list[Run]) -> dict[str, Any]:
    """One app's medians over the rounds, and every round."""
    results = [result for result, _ in runs]
    cpu = [cpu_us for _, cpu_us in runs]
    return {
        "rps": _median([result.rps for result in results]),
        "p50_ms": round(_median([result.p50_us for result in results]) / 1000, 3),
        "p99_ms": round(_median([result.p99_us for result in results]) / 1000, 3),
        "cpu_us_per_request": (
            None if any(value is None for value in cpu) else _median([v or 0.0 for v in cpu])
        ),
        "core_share": _core_share(runs),
        "failures": sum(result.failures for result in results),
        "failed_statuses": _counted(result.failed_statuses for result in results),
        "rounds": [{**result.as_dict(), "cpu_us_per_request": us} for result, us in runs],
    }


def pair(ours: list[Run], plain: list[Run]) -> dict[str, Any]:
    """Both sides, `ratio` (ours / plain requests/s) and `cpu_ratio` (plain / ours CPU
    µs per request): higher is better for both, 1.0 means ours adds nothing."""
    if len(ours) != len(plain):
        raise ValueError("ours and the plain app need the same rounds")
    return {
        "ours": side(ours),
        "plain": side(plain),
        "ratio": _ratio([r.rps for r, _ in ours], [r.rps for r, _ in plain]),
        "cpu_ratio": _ratio([cpu for _, cpu in plain], [cpu for _, cpu in ours]),
    }
