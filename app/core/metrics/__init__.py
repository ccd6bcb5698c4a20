"""Prometheus metrics: registry abstraction, the global metrics, middleware and routes."""

from app.core.metrics.decorators import track_background_job

__all__ = ["track_background_job"]
