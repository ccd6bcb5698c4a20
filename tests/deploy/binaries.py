"""Debian's `prometheus` package binaries for the tests: required in CI, optional elsewhere.

`.ci/run` installs the package when promtool is missing; if it still is, the tests that
need it fail there instead of skipping, so CI cannot pass without them.
"""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import IN_CI


def installed(binary: str) -> str:
    """The path of `binary` ("promtool", "prometheus"); fails in CI, skips elsewhere if missing."""
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} (Debian package prometheus) is not installed"
        if IN_CI:
            pytest.fail(f"{message}; CI requires it", pytrace=False)
        pytest.skip(message)
    return path
