"""Prometheus metrics: registry abstraction, the global metrics, middleware and routes."""
