"""Servers on one core, load generators on the other(s): neither takes the other's CPU."""

from __future__ import annotations

import os


def core_split() -> tuple[set[int], set[int]]:
    """(server cores, load-generator cores): first core for the server, the rest for load."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return set(cores), set(cores)
    return {cores[0]}, set(cores[1:])


def pin_to(cores: set[int]) -> None:
    """Pin the calling process (and its future children) to `cores` where possible."""
    available = os.sched_getaffinity(0)
    if cores & available:
        os.sched_setaffinity(0, cores & available)
