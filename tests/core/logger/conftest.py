"""Fixtures of the logger tests: the pipeline stopped after each test, a log directory."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.config import Settings
from app.core.logger import ContextQueueHandler, configure_logging, stop_logger


@pytest.fixture(autouse=True)
def _release_logging() -> Iterator[None]:
    yield
    stop_logger()


@pytest.fixture
def log_dir(make_settings: Callable[..., Settings], tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    configure_logging(make_settings(LOG_DIR=directory))
    return directory


@pytest.fixture
def only_the_pipeline(log_dir: Path) -> Iterator[Path]:
    """Root keeps our queue handler alone (pytest's capture handlers set aside), as in a
    served app: `log_fields` then leaves building the record to the listener. Request it
    with `getfixturevalue` inside the test: pytest adds its handlers after fixtures."""
    root = logging.getLogger()
    others = [handler for handler in root.handlers if not isinstance(handler, ContextQueueHandler)]
    for handler in others:
        root.removeHandler(handler)
    try:
        yield log_dir
    finally:
        for handler in others:
            root.addHandler(handler)
