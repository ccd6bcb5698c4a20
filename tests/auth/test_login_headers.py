"""Client headers stored with a session fit their columns: oversize values never make a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from app.auth.models import UserSession
from tests.auth.conftest import CHROME_MAC, PASSWORD, register

Sql = Callable[..., Any]


def column_length(name: str) -> int:
    length: int = UserSession.__table__.c[name].type.length
    return length


async def test_login_with_oversize_client_headers_stores_what_fits(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    long_brand = "\\x" * 64  # 128 characters once the escapes are kept
    headers = {
        "User-Agent": CHROME_MAC + " " + "u" * 2000,
        "X-App-Version": "9." * 40,
        "Sec-CH-UA": f'"{long_brand}";v="126", "Chromium";v="126"',
        "Sec-CH-UA-Platform": '"' + "p" * 200 + '"',
        "Sec-CH-UA-Mobile": "?0",
    }
    await register(client)
    response = await client.post(
        "/api/auth/login",
        json={"email": "ada@example.com", "password": PASSWORD},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    [row] = await sql("SELECT fingerprint, user_agent, os, browser, app_version FROM user_sessions")
    for name, value in row.items():
        assert value, name
        assert len(value) <= column_length(name), name
    assert headers["X-App-Version"].startswith(row["app_version"])
    assert long_brand.startswith(row["browser"])
    assert headers["User-Agent"].startswith(row["user_agent"])
