"""The app factory (app/main.py): production refuses insecure settings; route order; OTel.

`python -m app` (app/__main__.py) is tested in test___main__.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from app.core.audit import InsecureSettingsError
from app.core.config import Settings
from app.core.route_table import StaticPathIndex
from app.main import create_app

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_create_app_refuses_placeholder_keys_in_production(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        ENVIRONMENT="production",
        ACCESS_TOKEN_SIGNING_KEY="change-me-access-token-signing-key",
        CORS_ALLOW_ORIGINS="https://app.example",
        ALLOW_INSECURE_SETTINGS="POSTGRES_PASSWORD",
    )
    with pytest.raises(InsecureSettingsError) as caught:
        create_app(settings)
    assert [finding.variable for finding in caught.value.findings] == ["ACCESS_TOKEN_SIGNING_KEY"]


def test_create_app_starts_in_production_with_sound_settings(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings(
        ENVIRONMENT="production",
        CORS_ALLOW_ORIGINS="https://app.example",
        ALLOW_INSECURE_SETTINGS="POSTGRES_PASSWORD",  # the test database's own
    )
    assert create_app(settings).title == settings.PROJECT_NAME


def test_development_only_warns(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        ENVIRONMENT="development",
        ACCESS_TOKEN_SIGNING_KEY="change-me-access-token-signing-key",
    )
    assert create_app(settings).state.settings is settings


def test_api_routes_are_tried_first_and_fastapis_docs_routes_last(settings: Settings) -> None:
    """FastAPI tries routes in order: API requests should not pay for the docs routes."""
    app = create_app(settings)
    index, *routes = app.router.routes
    assert isinstance(index, StaticPathIndex)  # no path: a lookup in front of them all
    paths = [getattr(route, "path", None) for route in routes]
    assert paths[-5:] == [
        "/openapi.json",
        "/docs/assets",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    ]
    api = [i for i, path in enumerate(paths) if str(path).startswith("/api/")]
    assert api == list(range(len(api)))
    assert "/api/auth/me" in paths


# Runs in its own process: an OpenTelemetry tracer provider can be set once per process.
OTEL_PROBE = """
import asyncio, sys
import httpx
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from app.core.config import Settings
from app.main import create_app

settings = Settings(_env_file=None, ENVIRONMENT="test", OTEL_ENABLED=sys.argv[1], LOG_DIR=sys.argv[2])

async def main():
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        status = (await client.get("/")).status_code
    print(status, ",".join(sorted(span.name for span in exporter.get_finished_spans())))

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("enabled", "spans"), [("true", "GET /,fastapi.dependencies,fastapi.endpoint"), ("false", "")]
)
def test_otel_enabled_switches_fastapis_own_tracing(
    tmp_path: Path, enabled: str, spans: str
) -> None:
    """With an OTel SDK configured, FastAPI traces requests only when OTEL_ENABLED is true."""
    result = subprocess.run(
        [sys.executable, "-c", OTEL_PROBE, enabled, str(tmp_path)],
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split(" ", 1) == ["200", spans]
