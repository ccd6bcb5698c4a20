"""Importing `app.main` builds and starts nothing: uvicorn calls `create_app` for that."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter, from an empty directory: what `uvicorn app.main:create_app
# --factory` (or a worker of `python -m app`) does before it calls the factory.
PROBE = """
import json, os, sys, time

import argon2

hashes = []
original_hash = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *a, **k: hashes.append(1) or original_hash(self, *a, **k)

def descriptors():
    found = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            found[fd] = os.readlink(f"/proc/self/fd/{fd}")
        except FileNotFoundError:  # the directory listing's own descriptor, closed since
            pass
    return found

fds_before = descriptors()
cpu_before, wall_before = time.process_time(), time.perf_counter()
import app.main
cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
fds_after = descriptors()
print(json.dumps({
    "cpu_s": cpu,
    "wall_s": wall,
    "threads": len(os.listdir("/proc/self/task")),
    "new_descriptors": sorted(
        target for fd, target in fds_after.items()
        if fds_before.get(fd) != target and not target.startswith("/proc/")
    ),
    "argon2_hashes": len(hashes),
    "unconfigured_modules": [name for name in ("pymongo", "redis") if name in sys.modules],
}))
"""

# Generous, to hold on a busy shared machine: with bytecode cached, the import measured
# 0.6-0.7 s of CPU here, most of it FastAPI, pydantic and SQLAlchemy.
MAX_IMPORT_CPU_SECONDS = 1.5


def _import_in_a_fresh_process(directory: Path, bytecode: Path) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MONGO_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "LOG_DIR")
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {"PYTHONPATH": str(REPO_ROOT), "PYTHONPYCACHEPREFIX": str(bytecode)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    figures: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return figures


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """(the empty directory it ran in, the figures) of the second of two fresh imports.

    The first writes the bytecode cache (outside that directory), as a deployment has one.
    """
    bytecode = tmp_path_factory.mktemp("pycache")
    directory = tmp_path_factory.mktemp("empty")
    _import_in_a_fresh_process(directory, bytecode)
    return directory, _import_in_a_fresh_process(directory, bytecode)


def test_importing_app_main_creates_starts_and_connects_nothing(
    imported: tuple[Path, dict[str, Any]],
) -> None:
    directory, figures = imported
    assert list(directory.iterdir()) == []  # no ./logs, no socket file, no .data
    assert figures["threads"] == 1  # no log listener, no hashing or other thread
    assert figures["new_descriptors"] == []  # no file, no socket, no pipe left open
    assert figures["argon2_hashes"] == 0  # PasswordSecurity's dummy hash waits for the lifespan
    assert figures["unconfigured_modules"] == []  # no MONGO_URL, no REDIS_URL: not imported


def test_importing_app_main_is_fast(imported: tuple[Path, dict[str, Any]]) -> None:
    _, figures = imported
    assert figures["cpu_s"] < MAX_IMPORT_CPU_SECONDS, figures
