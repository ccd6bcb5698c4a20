"""/docs, /redoc and /openapi.json: served with their own assets, and DOCS_ENABLED."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.core.http.docs import add_offline_docs, docs_page_paths

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
DOCS_PATHS = ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"]
# Production starts only with settings the audit accepts; the test database keeps its password.
SOUND_PRODUCTION: dict[str, Any] = {
    "ENVIRONMENT": "production",
    "CORS_ALLOW_ORIGINS": "https://app.example",
    "ALLOW_INSECURE_SETTINGS": "POSTGRES_PASSWORD",
}


@pytest.mark.parametrize(
    ("overrides", "served"),
    [
        ({}, True),
        (SOUND_PRODUCTION, False),
        ({**SOUND_PRODUCTION, "DOCS_ENABLED": "true"}, True),
        ({"DOCS_ENABLED": "false"}, False),
    ],
    ids=["test-default", "production-default", "production-enabled", "disabled"],
)
async def test_docs_enabled_decides_whether_the_docs_are_served(
    make_client: ClientFactory, overrides: dict[str, Any], served: bool
) -> None:
    async with make_client(**overrides) as client:
        for path in DOCS_PATHS:
            response = await client.get(path)
            assert response.status_code == (200 if served else 404), path
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize(
    ("asset", "media_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "text/javascript"),
        ("favicon.png", "image/png"),
    ],
)
async def test_docs_assets_are_served_by_the_service(
    client: httpx.AsyncClient, asset: str, media_type: str
) -> None:
    response = await client.get(f"/docs/assets/{asset}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert len(response.content) > 1000


async def test_docs_pages_follow_the_root_path(make_client: ClientFactory) -> None:
    """Behind a proxy that strips a prefix, the pages point at the prefixed assets."""
    async with make_client() as client:
        transport = httpx.ASGITransport(app=client.app, root_path="/svc")  # type: ignore[attr-defined]
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as prefixed:
            html = (await prefixed.get("/svc/docs")).text
    assert "/svc/docs/assets/swagger-ui-bundle.js" in html
    assert "'/svc/openapi.json'" in html


def test_docs_page_paths_are_the_html_pages_of_an_app_with_a_schema() -> None:
    offline = FastAPI(docs_url=None, redoc_url=None)
    add_offline_docs(offline)
    assert docs_page_paths(offline) == ["/docs", "/redoc", "/docs/oauth2-redirect"]
    assert docs_page_paths(FastAPI(docs_url=None, redoc_url=None)) == ["/docs/oauth2-redirect"]
    assert docs_page_paths(FastAPI(openapi_url=None)) == []
