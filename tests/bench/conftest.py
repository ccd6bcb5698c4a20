"""The plain app of bench/bare.py on the test database, with the test settings' keys."""

from __future__ import annotations

import pytest

from app.core.config import Settings
from bench.bare import BareConfig


@pytest.fixture
def plain_config(settings: Settings) -> BareConfig:
    return BareConfig(
        database_url=settings.database_url.replace("postgresql+asyncpg", "postgresql", 1),
        access_key=settings.ACCESS_TOKEN_SIGNING_KEY.get_secret_value(),
        refresh_key=settings.REFRESH_TOKEN_SIGNING_KEY.get_secret_value(),
        issuer=settings.project_identifier,
        audience=settings.project_client_identifier,
        argon2_time_cost=settings.ARGON2_TIME_COST,
        argon2_memory_cost_kib=settings.ARGON2_MEMORY_COST_KIB,
        argon2_parallelism=settings.ARGON2_PARALLELISM,
    )
