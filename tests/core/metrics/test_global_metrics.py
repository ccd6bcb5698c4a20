"""global_metrics declares exactly the spec's 13 metrics and core's one more: names, types, labels."""

from __future__ import annotations

from prometheus_client.metrics import MetricWrapperBase

from app.core.metrics import global_metrics

SPEC_TABLE = {
    ("app_requests_total", "counter", ("method", "endpoint", "status")),
    ("app_request_latency_seconds", "histogram", ("method", "endpoint")),
    ("app_errors_total", "counter", ("endpoint", "exception_type")),
    ("system_memory_usage_percentage", "gauge", ("type",)),
    ("system_cpu_usage_percentage", "gauge", ()),
    ("background_job_runs_total", "counter", ("job_name",)),
    ("background_job_failures_total", "counter", ("job_name",)),
    ("background_job_duration_seconds", "histogram", ("job_name",)),
    ("db_postgres_poolsize", "gauge", ()),
    ("db_postgres_pool_checked_out", "gauge", ()),
    ("db_postgres_pool_overflow", "gauge", ()),
    ("db_postgres_query_duration_seconds", "histogram", ("operation",)),
    ("db_mongo_command_duration_seconds", "histogram", ("command", "collection")),
}
CORE_BEYOND_THE_SPEC = {("app_ratelimit_backend_errors_total", "counter", ("backend",))}


def _exposed_name(metric: MetricWrapperBase) -> str:
    return f"{metric._name}_total" if metric._type == "counter" else metric._name


def test_exactly_the_spec_table_and_cores_own() -> None:
    declared = [
        value for value in vars(global_metrics).values() if isinstance(value, MetricWrapperBase)
    ]
    assert len(declared) == 14
    assert {(_exposed_name(m), m._type, tuple(m._labelnames)) for m in declared} == (
        SPEC_TABLE | CORE_BEYOND_THE_SPEC
    )
