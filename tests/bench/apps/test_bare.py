"""The plain equivalents in bench/apps/bare.py do the job ours does, on our database.

A ratio against a plain app is only honest if the plain app checks what ours checks:
it must read the session ours opened, stop accepting a revoked one, rotate refresh
tokens so that a used one is refused, and refuse a wrong password.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from asgi_lifespan import LifespanManager

from bench.apps.bare import BareConfig, create_bare_app
from tests.auth.conftest import PASSWORD, bearer, signed_in


@asynccontextmanager
async def plain_client(config: BareConfig) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(create_bare_app(config)) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://plain") as client:
            yield client


async def _login(plain: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await plain.post("/api/auth/login", json={"email": email, "password": password})


async def test_plain_me_reads_the_session_ours_opened_until_ours_revokes_it(
    client: httpx.AsyncClient, plain_config: BareConfig
) -> None:
    tokens = await signed_in(client)
    ours = await client.get("/api/auth/me", headers=bearer(tokens["access_token"]))
    assert ours.status_code == 200

    async with plain_client(plain_config) as plain:
        answer = await plain.get("/api/auth/me", headers=bearer(tokens["access_token"]))
        assert answer.status_code == 200
        assert answer.json()["data"] == ours.json()["data"]

        logout = await client.post("/api/auth/logout", headers=bearer(tokens["access_token"]))
        assert logout.status_code == 204
        after = await plain.get("/api/auth/me", headers=bearer(tokens["access_token"]))
        assert after.status_code == 401


async def test_plain_refresh_rotates_and_refuses_a_used_token(
    client: httpx.AsyncClient, plain_config: BareConfig
) -> None:
    await signed_in(client, "grace@example.com")
    async with plain_client(plain_config) as plain:
        login = await _login(plain, "grace@example.com")
        assert login.status_code == 200, login.text
        first = login.json()["data"]["refresh_token"]

        rotated = await plain.post("/api/auth/refresh", json={"refresh_token": first})
        assert rotated.status_code == 200, rotated.text
        second = rotated.json()["data"]["refresh_token"]
        assert second != first

        reused = await plain.post("/api/auth/refresh", json={"refresh_token": first})
        assert reused.status_code == 401
        again = await plain.post("/api/auth/refresh", json={"refresh_token": second})
        assert again.status_code == 200
        me = await plain.get("/api/auth/me", headers=bearer(again.json()["data"]["access_token"]))
        assert me.json()["data"]["email"] == "grace@example.com"


async def test_plain_login_refuses_a_wrong_password_and_an_unknown_account(
    client: httpx.AsyncClient, plain_config: BareConfig
) -> None:
    await signed_in(client, "alan@example.com")
    async with plain_client(plain_config) as plain:
        wrong = await _login(plain, "alan@example.com", "not it at all")
        unknown = await _login(plain, "nobody@example.com")
    assert wrong.status_code == 401
    assert unknown.status_code == 401
