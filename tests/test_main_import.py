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
for module in sys.argv[1].split(","):
    __import__(module)
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

# The libraries app.main cannot do without; its import is measured against theirs in the
# same run, so the check holds on a fast machine and a slow shared one alike. Measured
# 1.5-2.2x on a shared VM (app.main 1.6-1.8 s of CPU there, 0.65 s on a faster one);
# building the app at import cost about 3.4x today's import.
LIBRARIES = "fastapi,sqlalchemy.ext.asyncio,asyncpg,pydantic_settings"
MAX_IMPORT_CPU_OVER_LIBRARIES = 3.0


def _import_in_a_fresh_process(
    directory: Path, bytecode: Path, modules: str = "app.main"
) -> dict[str, Any]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("MONGO_URL", "REDIS_URL", "PROMETHEUS_MULTIPROC_DIR", "LOG_DIR")
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env |= {"PYTHONPATH": str(REPO_ROOT), "PYTHONPYCACHEPREFIX": str(bytecode)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE, modules],
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


def test_importing_app_main_costs_little_beyond_its_libraries(
    imported: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    directory, figures = imported
    bytecode = tmp_path / "pycache"
    _import_in_a_fresh_process(directory, bytecode, LIBRARIES)  # writes their bytecode
    libraries = _import_in_a_fresh_process(directory, bytecode, LIBRARIES)
    assert figures["cpu_s"] < MAX_IMPORT_CPU_OVER_LIBRARIES * libraries["cpu_s"], (
        figures,
        libraries,
    )
