"""Redaction runs in linear time on hostile text: clients control what gets logged
(WebSocket query strings, headers, bodies echoed in errors), and a regex that
backtracks quadratically would let a few requests stall the logging thread.

Bounded, not timed: the scrubbing runs in a child process with a generous timeout, so
a quadratic regex (seconds per 64 KB, minutes per 256 KB) fails the test by timing out
while linear code finishes in milliseconds.
"""

from __future__ import annotations

import json
import subprocess
import sys

TIMEOUT_SECONDS = 20

SCRIPT = """
import json, sys
from app.core.logger.redaction import redact, scrub
hostile = [
    "token" * 13_108,                   # 64 KB of a secret word, no "="
    "password" * 32_768,                # 256 KB
    "x" + "_token" * 40_000 + "= 1",    # one 240 KB key
    "Authorization" + " " * 200_000 + "x",
    "bearer " * 40_000,
]
results = [len(scrub(text)) for text in hostile]
results.append(len(json.dumps(redact({"query": "token" * 50_000}))))
print(json.dumps(results))
"""


def test_scrubbing_hostile_text_is_bounded() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=True,
    )
    lengths = json.loads(done.stdout)
    assert len(lengths) == 6
    # Cut to the scan cap (masks may lengthen what is left), far below the 200-280 KB sent.
    assert all(0 < length <= 100_000 for length in lengths), lengths


def test_a_secret_after_the_scan_cap_is_not_logged() -> None:
    """Text past the cap is cut, not passed through unscrubbed."""
    from app.core.logger.redaction import scrub

    text = "x" * 100_000 + " password=hunter2"
    scrubbed = scrub(text)
    assert "hunter2" not in scrubbed
    assert scrubbed.startswith("x" * 1000)


def test_scrub_masks_every_secret_name_of_the_shared_pattern() -> None:
    from app.core.logger.redaction import scrub

    scrubbed = scrub("a=1&access_token=t0k&client_secret=s3c&api-key=k3y&private_key=pk&b=2")
    for secret in ("t0k", "s3c", "k3y", "pk&"):
        assert secret not in scrubbed
    assert scrubbed.startswith("a=1&")
    assert scrubbed.endswith("&b=2")


def test_a_boolean_setting_named_like_a_secret_stays_readable() -> None:
    from app.core.logger.redaction import scrub

    assert scrub("CORS_ALLOW_CREDENTIALS=true") == "CORS_ALLOW_CREDENTIALS=true"
    assert "hunter2" not in scrub("DB_CREDENTIALS=hunter2")
