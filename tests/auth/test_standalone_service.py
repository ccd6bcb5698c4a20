"""The auth service of login and refresh opens no unit of work for the request.

Its use cases open their own where they need one; one that touched the session outside
a unit of work would leave a transaction (locks, a pooled connection) open after the
request. The session refuses that at once instead.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.exc import InvalidRequestError

from app.auth.dependencies import get_standalone_service
from tests.auth.conftest import signed_in


async def test_its_session_cannot_be_used_outside_a_unit_of_work(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> None:
    pair = await signed_in(client)
    service = await get_standalone_service(Request({"type": "http", "app": app_of(client)}))

    # `authenticate` reads through the session without opening a unit of work itself.
    with pytest.raises(InvalidRequestError, match=r"[Aa]utobegin"):
        await service.authenticate(pair["access_token"])


async def test_a_refresh_that_needs_the_row_lock_commits_its_own_unit_of_work(
    client: httpx.AsyncClient,
) -> None:
    """A reused token takes the locked path: the revocation it commits must stick."""
    first = await signed_in(client)
    second = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200, second.text

    reused = await client.post("/api/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401
    newest = second.json()["data"]["refresh_token"]
    after = await client.post("/api/auth/refresh", json={"refresh_token": newest})
    assert after.status_code == 401  # the session was revoked, and stays revoked
