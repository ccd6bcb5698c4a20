"""No trailing-slash redirects: a redirect built from the Host header would send the
client, and a 307 would make it re-POST the password, wherever that header points."""

from __future__ import annotations

import httpx
import pytest

from tests.auth.conftest import PASSWORD, register


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/auth/login/"), ("POST", "/api/auth/register/"), ("GET", "/health/")],
)
async def test_a_trailing_slash_is_a_404_not_a_redirect_to_the_host_header(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    await register(client)
    response = await client.request(
        method,
        path,
        json={"email": "ada@example.com", "password": PASSWORD},
        headers={"Host": "evil.example"},
    )
    assert "location" not in response.headers
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
