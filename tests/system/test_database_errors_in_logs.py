"""A database error on a row holding a password hash, against a real `python -m app`.

Whatever the service writes about the failure (error.json, app.json, the console), it
must not carry the row's values: no Argon2 hash, no email. PostgreSQL's own error text
can hold them too ("Failing row contains (...)"), not only SQLAlchemy's bound parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.core.config import Settings
from tests.system.app_process import AppProcess

pytestmark = pytest.mark.slow

FORCED = "force a database error"
EMAIL = "leak-check@example.com"


async def _alter_users(settings: Settings, statement: str) -> None:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("environment", ["development", "production"])
async def test_a_database_error_logs_neither_the_password_hash_nor_the_email(
    start_app: Callable[..., AppProcess], database_overrides: dict[str, Any], environment: str
) -> None:
    settings = Settings(_env_file=None, **database_overrides)  # type: ignore[call-arg]
    await _alter_users(
        settings,
        f"ALTER TABLE users ADD CONSTRAINT test_forced_failure "
        f"CHECK (full_name IS DISTINCT FROM '{FORCED}') NOT VALID",
    )
    try:
        app = start_app(
            ENVIRONMENT=environment,
            LOG_LEVEL="DEBUG",
            CORS_ALLOW_ORIGINS='["https://app.example.com"]',
            ALLOW_INSECURE_SETTINGS="POSTGRES_PASSWORD",  # the test database's own
        )
        async with httpx.AsyncClient(base_url=app.url) as client:
            response = await client.post(
                "/api/auth/register",
                json={"email": EMAIL, "password": "correct horse battery", "full_name": FORCED},
            )
        assert response.status_code == 500
        app.terminate()
        assert app.wait(timeout=15) == 0
    finally:
        await _alter_users(settings, "ALTER TABLE users DROP CONSTRAINT test_forced_failure")

    destinations = {path.name: path.read_text() for path in app.log_dir.glob("*.json")}
    destinations["console"] = app.stderr()
    assert {"app.json", "error.json"} <= set(destinations)
    # The failure was logged, with the constraint that failed...
    assert "test_forced_failure" in destinations["error.json"]
    for name, written in destinations.items():
        # ...and nothing of the row.
        assert "$argon2" not in written, name
        assert EMAIL not in written, name
