"""The docs pages (Swagger UI at /docs, ReDoc at /redoc) served without any CDN.

FastAPI's own pages load Swagger UI, ReDoc, their CSS, Google Fonts and the favicon from
public hosts: behind a locked-down network, or offline, they are blank. The
`fastapi-offline` package ships those files (Swagger UI 5, ReDoc 2, the favicon); we
serve them from its package directory under `ASSETS_URL` and render FastAPI's own page
templates pointing at them, so the pages need no host but this one and their CSP
(`security_headers.DOCS_CSP_TEMPLATE`) names none.

The pages are registered by `add_offline_docs`, which also sets `app.docs_url` and
`app.redoc_url` so that the security headers and the route order treat them like
FastAPI's own docs routes (both find them with `docs_page_paths`).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
ASSETS_URL = "/docs/assets"
ASSETS_DIRECTORY = Path(fastapi_offline.__file__).parent / "static"
# Swagger UI's default validator badge is an image from validator.swagger.io.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def docs_page_paths(app: FastAPI) -> list[str]:
    """The paths of `app`'s docs HTML pages (none when it serves no OpenAPI document)."""
    if not app.openapi_url:
        return []
    pages = (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
    return [path for path in pages if path]


def _root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def add_offline_docs(app: FastAPI) -> None:
    """Serve /docs, /redoc and the OAuth2 redirect page with locally served assets.

    Call it on an app created with `docs_url=None, redoc_url=None` and an `openapi_url`;
    with `openapi_url=None` (docs turned off) it adds nothing.
    """
    openapi_url = app.openapi_url
    if openapi_url is None:
        return
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIRECTORY), name="docs-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + oauth2_redirect_url if oauth2_redirect_url else None,
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            swagger_ui_parameters={**SWAGGER_UI_PARAMETERS, **(app.swagger_ui_parameters or {})},
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )

    async def oauth2_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_api_route(DOCS_URL, swagger_ui, include_in_schema=False)
    if oauth2_redirect_url:
        app.add_api_route(oauth2_redirect_url, oauth2_redirect, include_in_schema=False)
    app.add_api_route(REDOC_URL, redoc, include_in_schema=False)
    app.docs_url, app.redoc_url = DOCS_URL, REDOC_URL
