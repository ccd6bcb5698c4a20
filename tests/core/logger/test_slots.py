"""Worker slots: one file set per process, named by a slot reused after the process exits."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from app.core.config import Settings
from app.core.logger import configure_logging, get_logger, stop_logger
from app.core.logger.slots import worker_slot
from tests.core.logger.log_lines import marked


def test_several_workers_write_one_file_set_each(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    directory = tmp_path / "logs"
    configure_logging(make_settings(LOG_DIR=directory, WORKERS=2))
    get_logger("app.tests.workers").error("worker_event")
    stop_logger()

    slot = worker_slot(directory)
    assert len(marked(directory / f"app.{slot}.json", "worker_event")) == 1
    assert len(marked(directory / f"error.{slot}.json", "worker_event")) == 1
    assert not (directory / "app.json").exists()


SLOT_PROBE = "import sys; from pathlib import Path; from app.core.logger.slots import worker_slot; print(worker_slot(Path(sys.argv[1])))"


def test_worker_slots_are_distinct_while_held_and_reused_after_exit(tmp_path: Path) -> None:
    """Log files are named by slot, not PID: a restarted worker writes the same files."""
    repo = Path(__file__).resolve().parents[3]

    def slot_of_a_new_process() -> int:
        result = subprocess.run(
            [sys.executable, "-c", SLOT_PROBE, str(tmp_path)],
            env={**os.environ, "PYTHONPATH": str(repo)},
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return int(result.stdout)

    ours = worker_slot(tmp_path)
    assert worker_slot(tmp_path) == ours  # claimed once per process
    first = slot_of_a_new_process()
    assert first != ours
    assert slot_of_a_new_process() == first  # the exited process's slot is free again
