"""The plain app of bench/apps/bare.py on the test database, with the test settings' keys."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from bench.apps.bare import BareConfig
from bench.apps.settings import bare_config


@pytest.fixture
def plain_config(settings: Settings) -> BareConfig:
    return bare_config(settings)
