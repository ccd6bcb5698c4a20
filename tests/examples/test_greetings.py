"""The README's first-endpoint example: the block is the file, and every route works."""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

import app.examples.greetings as example
from app.core.config import Settings
from app.core.logger import stop_logger
from app.examples.greetings import GREETINGS, greetings_router
from tests.auth.conftest import bearer, log_records, signed_in
from tests.core.pem_keys import private_pem

README = Path(__file__).resolve().parents[2] / "README.md"
ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
PREFIX = "/api/greetings"


def _readme() -> str:
    return README.read_text(encoding="utf-8")


def test_readme_shows_the_example_file_verbatim() -> None:
    block = re.search(
        r"<!-- begin app/examples/greetings.py -->\n```python\n(.*?)```\n"
        r"<!-- end app/examples/greetings.py -->",
        _readme(),
        re.DOTALL,
    )
    assert block is not None
    assert block.group(1) == inspect.getsource(example)


@pytest.fixture
async def greetings(make_client: ClientFactory, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app with the example router included where the README says: under /api."""
    async with make_client(LOG_DIR=tmp_path / "logs", LOG_LEVEL="INFO") as client:
        client.app.include_router(greetings_router, prefix=PREFIX)  # type: ignore[attr-defined]
        yield client


async def test_public_route_answers_in_the_envelope(greetings: httpx.AsyncClient) -> None:
    response = await greetings.get(f"{PREFIX}/languages")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == sorted(GREETINGS)
    assert body["meta"]["success"] is True
    assert body["meta"]["request_id"] == response.headers["x-request-id"]


async def test_signed_in_route_knows_the_caller_counts_and_logs(
    greetings: httpx.AsyncClient, tmp_path: Path
) -> None:
    anonymous = await greetings.get(f"{PREFIX}/fr")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == "application/problem+json"

    metrics_before = (await greetings.get("/metrics")).text
    session = await signed_in(greetings, "first@example.com")
    response = await greetings.get(f"{PREFIX}/fr", headers=bearer(session["access_token"]))
    assert response.status_code == 200
    assert response.json()["data"] == {"language": "fr", "text": "Bonjour, first@example.com"}

    metrics_after = (await greetings.get("/metrics")).text
    assert _sample(metrics_after, "fr") == _sample(metrics_before, "fr") + 1

    me = await greetings.get("/api/auth/me", headers=bearer(session["access_token"]))
    stop_logger()  # the listener thread writes the files: flush them before reading
    lines = [r for r in log_records(tmp_path / "logs") if r["message"] == "greeting_served"]
    assert len(lines) == 1
    assert lines[0]["extra"] == {"language": "fr"}
    assert lines[0]["request_id"] == response.headers["x-request-id"]
    assert lines[0]["user_id"] == me.json()["data"]["id"]


def _sample(exposition: str, language: str) -> float:
    match = re.search(
        rf'^greetings_served_total\{{language="{language}"\}} (\S+)$', exposition, re.MULTILINE
    )
    return float(match.group(1)) if match else 0.0


async def test_our_error_becomes_a_problem_404(greetings: httpx.AsyncClient) -> None:
    session = await signed_in(greetings, "second@example.com")
    response = await greetings.get(f"{PREFIX}/xx", headers=bearer(session["access_token"]))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no greeting in this language"


async def test_admin_route_needs_the_role(greetings: httpx.AsyncClient, settings: Settings) -> None:
    session = await signed_in(greetings, "third@example.com")
    headers = bearer(session["access_token"])
    refused = await greetings.get(f"{PREFIX}/admin/languages", headers=headers)
    assert refused.status_code == 403
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE users SET roles = ARRAY['user', 'admin'] WHERE email = :email"),
                {"email": "third@example.com"},
            )
    finally:
        await engine.dispose()
    allowed = await greetings.get(f"{PREFIX}/admin/languages", headers=headers)
    assert allowed.status_code == 200
    assert allowed.json()["data"] == GREETINGS


# The README's table of every route.

ROW = re.compile(r"^\| `(GET|POST|DELETE|WEBSOCKET) ([^`]+)` \|", re.MULTILINE)


def _table() -> list[tuple[str, str]]:
    section = _readme().split("### Every route the service serves", 1)[1].split("\n## ", 1)[0]
    return ROW.findall(section)


async def test_readme_route_table_lists_every_documented_operation(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert operations
    assert operations <= set(_table())


async def test_every_http_route_in_the_readme_table_is_served(make_client: ClientFactory) -> None:
    """No row names a path that 404s or 405s (path parameters get plausible values).

    ES256 keys, so that the JWKS has keys to publish. The WebSocket row is served over a
    socket; tests/auth/test_router.py opens it."""
    rows = [(method, path) for method, path in _table() if method != "WEBSOCKET"]
    assert len(rows) == 20
    keys = {
        "JWT_ALGORITHM": "ES256",
        "ACCESS_TOKEN_SIGNING_KEY": private_pem("ES256"),
        "REFRESH_TOKEN_SIGNING_KEY": private_pem("ES256", 1),
    }
    async with make_client(**keys) as client:
        for method, path in rows:
            concrete = path.replace("{session_id}", str(uuid.uuid4()))
            concrete = concrete.replace("{prefix}", "http").replace("{file}", "favicon.png")
            response = await client.request(method, concrete)
            assert response.status_code not in (404, 405), (method, path, response.status_code)
