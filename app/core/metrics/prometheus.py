"""Prometheus abstraction over prometheus_client (observability issue fills this in).

Foundation stub: `prometheus.register_counter/gauge/histogram` exist so other modules can
declare metrics now; registration is idempotent on the app's own CollectorRegistry.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Prometheus:
    """Registers metrics once on its own registry and renders the text exposition."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._metrics: dict[str, Any] = {}

    def _register(
        self, kind: type[Any], name: str, doc: str, labels: Sequence[str], **kw: Any
    ) -> Any:
        existing = self._metrics.get(name)
        if existing is not None:
            return existing
        metric = kind(name, doc, list(labels), registry=self.registry, **kw)
        self._metrics[name] = metric
        return metric

    def register_counter(self, name: str, doc: str, labels: Sequence[str] = ()) -> Counter:
        metric: Counter = self._register(Counter, name, doc, labels)
        return metric

    def register_gauge(self, name: str, doc: str, labels: Sequence[str] = ()) -> Gauge:
        metric: Gauge = self._register(Gauge, name, doc, labels)
        return metric

    def register_histogram(self, name: str, doc: str, labels: Sequence[str] = ()) -> Histogram:
        metric: Histogram = self._register(Histogram, name, doc, labels)
        return metric


prometheus = Prometheus()
