"""The cyclic garbage collector set for a long-running server: the startup heap frozen.

CPython's collector scans every tracked object on a full collection and runs one each
time the objects promoted since the last reach a quarter of the older heap. A worker's
heap after startup holds ~140,000 objects (FastAPI, SQLAlchemy, pydantic, the user-agent
parser, our routes and settings) that live as long as the process. Under load, requests
in flight get promoted all the time, so full collections ran every 0.65 s at 83 ms each:
18% of the CPU of the token-refresh endpoint, collecting nothing (measured with gc.callbacks
under `make bench`'s load).

`frozen_startup_heap` freezes the heap once the app has started (`gc.freeze()`): no
collection scans it again. (A collection at that point found nothing to collect and took
50 ms, so it is skipped.) It gives the heap back at shutdown (`gc.unfreeze()`), so an app
started and stopped in a longer process (the tests) leaves nothing uncollectable behind.
The youngest generation's threshold goes up so that most of a request's objects are
freed by reference counting before a collection promotes them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_GENERATION_THRESHOLD = 10_000
"""Allocations between collections of the youngest generation (CPython's default: 700)."""


@contextmanager
def frozen_startup_heap(young_threshold: int = YOUNG_GENERATION_THRESHOLD) -> Iterator[None]:
    """Freeze the heap built so far and collect less often, until the block ends."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(young_threshold, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
