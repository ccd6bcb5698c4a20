"""Core's metrics, declared once: the spec's 13 and the rate limiter's backend errors.

Recorded only by the metrics middleware (app_request*, app_errors_total), the
system-metrics task (system_*, db_postgres_pool*), the background-job decorator
(background_job_*), the database boundary in `app.db` (db_*_duration_seconds) and the
rate limiter (app_ratelimit_backend_errors_total). Domains declare their own beside
their code (`app.auth.metrics`).

Multiprocess modes of the gauges (used only with several workers): the system gauges
describe the whole machine, so the most recent sample of any live worker is the value
(one series, no pid label); the pool gauges describe each worker's own pool, so live
workers' values are summed into the service's total of PostgreSQL connections.
"""

from __future__ import annotations

from app.core.metrics.prometheus import prometheus

# Database round trips are mostly sub-millisecond to tens of milliseconds.
DB_DURATION_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)

request_count = prometheus.register_counter(
    "app_requests_total", "Total HTTP requests", ["method", "endpoint", "status"]
)
request_latency = prometheus.register_histogram(
    "app_request_latency_seconds", "HTTP request latency", ["method", "endpoint"]
)
error_count = prometheus.register_counter(
    "app_errors_total", "Total application errors", ["endpoint", "exception_type"]
)

system_memory_usage = prometheus.register_gauge(
    "system_memory_usage_percentage",
    "System memory usage %",
    ["type"],
    multiprocess_mode="livemostrecent",
)
system_cpu_usage = prometheus.register_gauge(
    "system_cpu_usage_percentage", "System CPU usage %", multiprocess_mode="livemostrecent"
)

background_job_runs = prometheus.register_counter(
    "background_job_runs_total", "Background job execution count", ["job_name"]
)
background_job_failures = prometheus.register_counter(
    "background_job_failures_total", "Background job failure count", ["job_name"]
)
background_job_duration = prometheus.register_histogram(
    "background_job_duration_seconds", "Background job duration", ["job_name"]
)

db_postgres_poolsize = prometheus.register_gauge(
    "db_postgres_poolsize", "Total connections in the pool", multiprocess_mode="livesum"
)
db_postgres_pool_checked_out = prometheus.register_gauge(
    "db_postgres_pool_checked_out", "Connections currently in use", multiprocess_mode="livesum"
)
db_postgres_pool_overflow = prometheus.register_gauge(
    "db_postgres_pool_overflow", "Connections beyond pool size", multiprocess_mode="livesum"
)
db_postgres_query_duration = prometheus.register_histogram(
    "db_postgres_query_duration_seconds",
    "PostgreSQL query execution time",
    ["operation"],
    buckets=DB_DURATION_BUCKETS,
)
db_mongo_command_duration = prometheus.register_histogram(
    "db_mongo_command_duration_seconds",
    "MongoDB command execution time",
    ["command", "collection"],
    buckets=DB_DURATION_BUCKETS,
)

ratelimit_backend_errors = prometheus.register_counter(
    "app_ratelimit_backend_errors_total",
    "Rate-limit checks the shared backend failed; the in-process limiter answered them.",
    ["backend"],
)
