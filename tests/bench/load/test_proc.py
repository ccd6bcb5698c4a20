"""bench/load/proc.py reads a worker's resident memory from /proc (the startup rows)."""

from __future__ import annotations

import os

from bench.load.proc import rss_mib


def test_rss_grows_by_what_the_process_touches() -> None:
    before = rss_mib(os.getpid())
    block = bytearray(64 * 1024 * 1024)  # zero pages: not resident until written
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    grown = rss_mib(os.getpid()) - before
    del block
    assert 60 < grown < 70
