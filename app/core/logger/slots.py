"""Worker slots: a small, reused number per process for its log file names.

With several workers each process needs files of its own (two processes rotating one
file lose records). Named by PID, they piled up: every restart left a new set behind.
A process instead takes the lowest free slot in LOG_DIR, held by an advisory `flock` on
`.slot.<n>.lock` for as long as the process lives: the kernel frees it when the process
exits, however it exits, so the next worker or restart takes the number again and
writes (and rotates) the same `app.<n>.json`.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

MAX_SLOTS = 1024
# (pid, directory) -> slot; the descriptors stay open: closing one would free its slot.
_claimed: dict[tuple[int, Path], int] = {}
_held: list[int] = []


def worker_slot(directory: Path) -> int:
    """This process's slot in `directory`, claimed on first use."""
    key = (os.getpid(), directory.resolve())
    if key in _claimed:
        return _claimed[key]
    directory.mkdir(parents=True, exist_ok=True)
    for slot in range(MAX_SLOTS):
        descriptor = os.open(directory / f".slot.{slot}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            continue
        _held.append(descriptor)
        _claimed[key] = slot
        return slot
    raise RuntimeError(f"more than {MAX_SLOTS} processes log into {directory}")
