"""`@track_background_job(name)`: runs, failures and duration of an async job."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from time import perf_counter
from typing import Any, ParamSpec, TypeVar

from app.core.metrics.global_metrics import (
    background_job_duration,
    background_job_failures,
    background_job_runs,
)

P = ParamSpec("P")
R = TypeVar("R")


def track_background_job(
    name: str,
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Count each run of the wrapped coroutine function under `job_name=name`.

    A run is counted when it starts; an exception counts a failure and is re-raised; the
    duration of every run that finished (or failed) is observed. A cancelled run (the
    app shutting down) is neither a failure nor a duration.
    """
    runs = background_job_runs.labels(name)
    failures = background_job_failures.labels(name)
    duration = background_job_duration.labels(name)

    def decorate(
        func: Callable[P, Coroutine[Any, Any, R]],
    ) -> Callable[P, Coroutine[Any, Any, R]]:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"track_background_job wraps async functions, not {func!r}")

        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            runs.inc()
            started = perf_counter()
            try:
                result = await func(*args, **kwargs)
            except Exception:
                failures.inc()
                duration.observe(perf_counter() - started)
                raise
            duration.observe(perf_counter() - started)
            return result

        return wrapper

    return decorate
