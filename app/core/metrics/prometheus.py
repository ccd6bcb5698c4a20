"""The Prometheus abstraction over prometheus_client: one registry, idempotent registration.

Metrics are declared once (`global_metrics.py`, or a domain module) through the
`prometheus` singleton; declaring a name again returns the same object, while a clash
in type or label names raises `MetricConflictError` instead of silently mixing series.

Several workers: prometheus_client keeps each process's values in memory, so behind a
multi-worker server every scrape would see one worker only. When PROMETHEUS_MULTIPROC_DIR
is set (`python -m app` sets it for WORKERS > 1, see `multiprocess_directory`), every
value lives in mmap files in that directory and `render()` merges them with a
`MultiProcessCollector` on a fresh registry. Counters and histograms of dead workers stay
(totals must not go backwards); gauges use "live" multiprocess modes, whose files are
removed for dead workers: by each worker at shutdown (`mark_process_dead`) and, for a
worker that crashed, at the next scrape (`_reap_dead_workers`).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

import psutil
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = [
    "CONTENT_TYPE_LATEST",
    "MULTIPROC_DIR_ENV",
    "GaugeMode",
    "MetricConflictError",
    "Prometheus",
    "multiprocess_directory",
    "prometheus",
]

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"

GaugeMode = Literal[
    "all",
    "liveall",
    "min",
    "livemin",
    "max",
    "livemax",
    "sum",
    "livesum",
    "mostrecent",
    "livemostrecent",
]

# `*_created` series double the output and do not exist in multiprocess mode; dropping
# them keeps single- and multi-worker output alike. (Process-wide prometheus_client flag.)
disable_created_metrics()  # type: ignore[no-untyped-call]

_LIVE_GAUGE_FILE = re.compile(r"gauge_live[a-z]+_(\d+)\.db")

M = TypeVar("M", bound=MetricWrapperBase)


class MetricConflictError(ValueError):
    """A metric name is registered again with another type or other label names."""


def multiprocess_dir() -> str | None:
    """The multiprocess directory in force for this process, if any."""
    return os.environ.get(MULTIPROC_DIR_ENV) or None


class _PrefixFilter:
    """A collector showing only the metric families whose exposed name starts with `prefix`."""

    def __init__(self, source: Collector, prefix: str) -> None:
        self._source = source
        self._prefix = prefix

    def collect(self) -> Iterable[Metric]:
        prefix = self._prefix
        for family in self._source.collect():
            # Families are named without their sample suffixes (`_total`, `_bucket`...).
            if (
                family.name.startswith(prefix)
                or (family.type == "counter" and f"{family.name}_total".startswith(prefix))
                or any(sample.name.startswith(prefix) for sample in family.samples[:1])
            ):
                yield family


class Prometheus:
    """Registers metrics once on its own registry and renders the text exposition."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, MetricWrapperBase] = {}
        self._lock = threading.Lock()

    def _register(
        self, kind: type[M], name: str, doc: str, labels: Sequence[str], **kwargs: Any
    ) -> M:
        labelnames = tuple(labels)
        with self._lock:
            existing = self._metrics.get(name)
            if existing is None:
                metric = kind(name, doc, labelnames, registry=self.registry, **kwargs)
                self._metrics[name] = metric
                return metric
        if type(existing) is not kind or existing._labelnames != labelnames:
            raise MetricConflictError(
                f"metric {name!r} is already registered as {type(existing).__name__}"
                f"{list(existing._labelnames)}, not {kind.__name__}{list(labelnames)}"
            )
        return existing

    def register_counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        """A Counter; the same object when `name` is already registered alike."""
        return self._register(Counter, name, doc, labels)

    def register_gauge(
        self,
        name: str,
        doc: str,
        labels: Sequence[str] = (),
        *,
        multiprocess_mode: GaugeMode = "livesum",
    ) -> Gauge:
        """A Gauge; `multiprocess_mode` says how workers' values combine (default: sum of live ones)."""
        return self._register(Gauge, name, doc, labels, multiprocess_mode=multiprocess_mode)

    def register_histogram(
        self,
        name: str,
        doc: str,
        labels: Sequence[str] = (),
        *,
        buckets: Sequence[float] = Histogram.DEFAULT_BUCKETS,
    ) -> Histogram:
        """A Histogram with `buckets` (prometheus_client's defaults suit HTTP latency)."""
        return self._register(Histogram, name, doc, labels, buckets=tuple(buckets))

    def register_summary(self, name: str, doc: str, labels: Sequence[str] = ()) -> Summary:
        """A Summary (count and sum only, as prometheus_client exposes it)."""
        return self._register(Summary, name, doc, labels)

    def collector(self) -> Collector:
        """What a scrape reads: this registry, or all workers' files in multiprocess mode."""
        path = multiprocess_dir()
        if path is None:
            return self.registry
        _reap_dead_workers(path)
        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged, path=path)  # type: ignore[no-untyped-call]
        return merged

    def render(self, prefix: str | None = None) -> bytes:
        """The text exposition (CONTENT_TYPE_LATEST) of every metric, or of those named `prefix*`."""
        source = self.collector()
        if prefix:
            source = _PrefixFilter(source, prefix)
        return generate_latest(source)

    def mark_process_dead(self, pid: int | None = None) -> None:
        """Drop the live-gauge files of worker `pid` (default: this one); no-op with one process."""
        path = multiprocess_dir()
        if path is not None:
            multiprocess.mark_process_dead(os.getpid() if pid is None else pid, path)  # type: ignore[no-untyped-call]


def _reap_dead_workers(path: str) -> None:
    """Remove live-gauge files of workers that died without running their shutdown."""
    try:
        names = os.listdir(path)
    except FileNotFoundError:
        return
    pids = {int(match[1]) for name in names if (match := _LIVE_GAUGE_FILE.fullmatch(name))}
    for pid in pids:
        if not psutil.pid_exists(pid):
            multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


_TEMP_PREFIX = "prometheus-multiproc-"
_ORPHAN = re.compile(rf"{_TEMP_PREFIX}(\d+)-\w+")


def _remove_orphaned_directories() -> None:
    """Remove temporary directories left by servers that were killed (their pid is gone)."""
    root = Path(tempfile.gettempdir())
    for path in root.glob(f"{_TEMP_PREFIX}*"):
        match = _ORPHAN.fullmatch(path.name)
        if match and path.is_dir() and not psutil.pid_exists(int(match[1])):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def multiprocess_directory(workers: int) -> Iterator[Path | None]:
    """Provide PROMETHEUS_MULTIPROC_DIR to the workers a server is about to spawn.

    Must run before the workers import prometheus_client (it picks its storage then).
    A directory given in the environment is emptied of stale `*.db` files (other
    processes' ones), as prometheus_client requires between runs. Otherwise, with several
    workers, a fresh temporary directory is created and removed afterwards; those left by
    killed servers are removed the next time. One worker needs none.
    """
    given = multiprocess_dir()
    if given is not None:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        own = f"_{os.getpid()}.db"  # this process may already have opened its files
        for stale in path.glob("*.db"):
            if not stale.name.endswith(own):
                stale.unlink(missing_ok=True)
        try:
            yield path
        finally:
            multiprocess.mark_process_dead(os.getpid(), str(path))  # type: ignore[no-untyped-call]
        return
    if workers <= 1:
        yield None
        return
    _remove_orphaned_directories()
    path = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{os.getpid()}-"))
    os.environ[MULTIPROC_DIR_ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_DIR_ENV, None)
        shutil.rmtree(path, ignore_errors=True)


prometheus = Prometheus()
