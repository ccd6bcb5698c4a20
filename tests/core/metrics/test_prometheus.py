"""The registry abstraction: idempotent registration, rendering, multiprocess mode."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, Summary

from app.core.metrics.prometheus import (
    MULTIPROC_DIR_ENV,
    MetricConflictError,
    Prometheus,
    multiprocess_directory,
    prometheus,
)

ROOT = Path(__file__).resolve().parents[3]


def test_registering_again_returns_the_same_metric() -> None:
    registry = Prometheus()
    first = registry.register_counter("domain_things_total", "Things", ["kind"])
    again = registry.register_counter("domain_things_total", "Things, again", ["kind"])
    assert again is first
    assert isinstance(first, Counter)
    assert isinstance(registry.register_gauge("domain_level", "Level"), Gauge)
    assert isinstance(registry.register_histogram("domain_seconds", "Time"), Histogram)
    assert isinstance(registry.register_summary("domain_size_bytes", "Size"), Summary)


@pytest.mark.parametrize(
    ("register", "labels"),
    [("register_gauge", ["kind"]), ("register_counter", ["other"]), ("register_counter", [])],
)
def test_a_conflicting_type_or_label_set_raises(register: str, labels: list[str]) -> None:
    registry = Prometheus()
    registry.register_counter("domain_clash_total", "Clash", ["kind"])
    with pytest.raises(MetricConflictError, match="domain_clash_total"):
        getattr(registry, register)("domain_clash_total", "Clash", labels)


def test_metrics_live_on_their_own_registry_not_the_global_one() -> None:
    registry = Prometheus()
    registry.register_counter("domain_private_total", "Private").inc()
    assert b"domain_private_total 1.0" in registry.render()
    assert REGISTRY.get_sample_value("domain_private_total") is None
    assert prometheus.registry is not REGISTRY


def test_render_filters_by_prefix_and_omits_created_series() -> None:
    registry = Prometheus()
    registry.register_counter("alpha_requests_total", "A").inc(3)
    registry.register_histogram("alpha_latency_seconds", "L").observe(0.2)
    registry.register_gauge("beta_level", "B").set(7)

    everything = registry.render().decode()
    assert "_created" not in everything
    only_alpha = registry.render("alpha_").decode()
    assert "alpha_requests_total 3.0" in only_alpha
    assert "alpha_latency_seconds_count 1.0" in only_alpha
    assert "beta_level" not in only_alpha
    assert registry.render("alpha_requests_total").decode().count("# TYPE") == 1
    assert registry.render("alpha_latency_seconds_bucket").decode().count("# TYPE") == 1
    registry.register_counter("alpha_unused_total", "Declared, never incremented", ["kind"])
    assert "# TYPE alpha_unused_total counter" in registry.render("alpha_unused_total").decode()


def test_one_worker_needs_no_multiprocess_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROC_DIR_ENV, raising=False)
    with multiprocess_directory(1) as path:
        assert path is None
        assert MULTIPROC_DIR_ENV not in os.environ


def test_several_workers_get_a_fresh_directory_removed_afterwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(MULTIPROC_DIR_ENV, raising=False)
    with multiprocess_directory(2) as path:
        assert path is not None
        assert path.is_dir()
        assert list(path.iterdir()) == []
        assert os.environ[MULTIPROC_DIR_ENV] == str(path)
    assert not path.exists()
    assert MULTIPROC_DIR_ENV not in os.environ


def test_directories_of_killed_servers_are_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MULTIPROC_DIR_ENV, raising=False)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    orphan = Path(tempfile.gettempdir()) / f"prometheus-multiproc-{dead.stdout.strip()}-abc123"
    orphan.mkdir()
    (orphan / "counter_1.db").write_bytes(b"old")
    with multiprocess_directory(2) as path:
        assert path is not None
        assert path.name.startswith(f"prometheus-multiproc-{os.getpid()}-")
        assert not orphan.exists()


def test_a_given_directory_is_emptied_of_stale_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stale = tmp_path / "counter_1.db"
    stale.write_bytes(b"old")
    own = tmp_path / f"counter_{os.getpid()}.db"
    own.write_bytes(b"mine")
    monkeypatch.setenv(MULTIPROC_DIR_ENV, str(tmp_path))
    with multiprocess_directory(4) as path:
        assert path == tmp_path
        assert not stale.exists()
        assert own.exists()
    assert tmp_path.is_dir()


MULTIPROCESS_SCRIPT = textwrap.dedent(
    """
    import multiprocessing, os, sys
    from app.core.metrics.prometheus import Prometheus

    registry = Prometheus()
    hits = registry.register_counter("domain_hits_total", "Hits", ["worker"])
    total = registry.register_counter("domain_all_hits_total", "All hits")
    busy = registry.register_gauge("domain_busy", "Busy", multiprocess_mode="livesum")

    def work(n, leave_gauge_behind):
        for _ in range(n):
            hits.labels(str(n)).inc()
            total.inc()
        busy.set(n)
        if not leave_gauge_behind:
            registry.mark_process_dead()

    if __name__ == "__main__":
        ctx = multiprocessing.get_context("spawn")
        # 3 exits cleanly, 5 "crashes" leaving its live gauge file behind
        children = [ctx.Process(target=work, args=(n, n == 5)) for n in (3, 5)]
        for child in children:
            child.start()
        for child in children:
            child.join()
        print("pid", os.getpid())
        sys.stdout.write(registry.render().decode())
    """
)


@pytest.mark.slow
def test_multiprocess_mode_sums_workers_and_drops_dead_workers_gauges(tmp_path: Path) -> None:
    script = tmp_path / "workers.py"
    script.write_text(MULTIPROCESS_SCRIPT)
    directory = tmp_path / "multiproc"
    directory.mkdir()
    env = {**os.environ, MULTIPROC_DIR_ENV: str(directory), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = set(result.stdout.splitlines())
    assert "domain_all_hits_total 8.0" in lines
    assert 'domain_hits_total{worker="3"} 3.0' in lines
    assert 'domain_hits_total{worker="5"} 5.0' in lines
    # Both workers are gone: the clean one removed its gauge, the scrape reaped the other's;
    # only the (live) parent's own gauge, still 0, is left.
    assert "domain_busy 0.0" in lines
    parent = result.stdout.split()[1]
    assert [f.name for f in directory.glob("gauge_livesum_*.db")] == [f"gauge_livesum_{parent}.db"]
