"""The security headers on every response, and the CSP the docs pages can render with."""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

import httpx
import pytest

API_CSP = "default-src 'none'; frame-ancestors 'none'"


SECURITY_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "strict-origin-when-cross-origin",
}


@pytest.mark.parametrize("path", ["/health", "/nope", "/probe/boom", "/probe/items/x"])
async def test_security_headers_on_every_response(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert response.headers["content-security-policy"] == API_CSP
    assert response.headers["cross-origin-opener-policy"] == "same-origin"


async def test_header_set_by_the_endpoint_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/own-headers")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"


def _directive(csp: str, name: str) -> list[str]:
    for directive in csp.split(";"):
        parts = directive.split()
        if parts and parts[0] == name:
            return parts[1:]
    raise AssertionError(f"no {name} in {csp}")


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_docs_pages_get_a_csp_they_can_render_with(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    html = response.text
    csp = response.headers["content-security-policy"]
    assert csp != API_CSP
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    scripts = _directive(csp, "script-src")
    inline = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    if path != "/redoc":
        assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in scripts
    assert "'unsafe-inline'" not in scripts
    # Every asset comes from this service, and the CSP names no other host.
    for url in re.findall(r'<(?:script src|link[^>]*href)="([^"]+)"', html):
        assert urlsplit(url).netloc == "", url
        assert (await client.get(url)).status_code == 200, url
    assert "http" not in csp
    if path == "/redoc":
        assert "blob:" in _directive(csp, "worker-src")
