"""A rate-limit rule: parsed from the `limits` notation, its limit and window."""

from __future__ import annotations

import pytest

from app.core.ratelimit.rules import RateLimitRule


def test_rule_must_allow_a_request() -> None:
    with pytest.raises(ValueError, match="at least one"):
        RateLimitRule.parse("x", "POST", "/x", "ip", "0/minute")


@pytest.mark.parametrize(
    ("spec", "limit", "window_seconds"),
    [("20/minute", 20, 60), ("5 per hour", 5, 3600), ("100/2 hours", 100, 7200)],
)
def test_a_rule_counts_the_limit_per_window_its_spec_names(
    spec: str, limit: int, window_seconds: int
) -> None:
    rule = RateLimitRule.parse("r", "post", "/x", "ip", spec)
    assert (rule.limit, rule.window_seconds) == (limit, window_seconds)
    assert rule.method == "POST"  # matched against the request's upper-case method
