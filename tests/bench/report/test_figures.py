"""The benchmark's ratio maths: per-round ratios, their median, and missing CPU figures."""

from __future__ import annotations

import pytest

from bench.load.generator import LoadResult
from bench.report.figures import pair


def _run(requests: int, cpu_us: float | None) -> tuple[LoadResult, float | None]:
    # One second per run, so requests/s equals `requests`.
    return LoadResult(requests, 1.0, 0, 1000.0, 2000.0), cpu_us


def test_ratio_is_the_median_of_the_rounds_ratios_not_the_ratio_of_medians() -> None:
    # Round ratios 0.5, 0.9, 0.6: median 0.6. The medians (300 / 400) would say 0.75.
    ours = [_run(100, 100.0), _run(900, 80.0), _run(300, 120.0)]
    plain = [_run(200, 50.0), _run(1000, 60.0), _run(500, 40.0)]

    figures = pair(ours, plain)

    assert figures["ratio"] == 0.6
    assert figures["ours"]["rps"] == 300.0
    assert figures["plain"]["rps"] == 500.0
    # CPU: plain / ours per round 0.5, 0.75, 0.333...: median 0.5.
    assert figures["cpu_ratio"] == 0.5
    assert figures["ours"]["cpu_us_per_request"] == 100.0
    # Core share per round: 100 x 100 µs, 900 x 80 µs, 300 x 120 µs = 0.01, 0.072, 0.036.
    assert figures["ours"]["core_share"] == 0.04


def test_cpu_ratio_is_left_out_when_a_round_has_no_cpu_figure() -> None:
    figures = pair([_run(100, None), _run(100, 50.0)], [_run(100, 25.0), _run(100, 25.0)])

    assert figures["cpu_ratio"] is None
    assert figures["ours"]["cpu_us_per_request"] is None
    assert figures["ours"]["core_share"] is None
    assert figures["ratio"] == 1.0


def test_sides_must_have_the_same_rounds() -> None:
    with pytest.raises(ValueError, match="same rounds"):
        pair([_run(1, 1.0)], [])
