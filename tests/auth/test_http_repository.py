"""Repository error translation at the database boundary, seen through HTTP.

The repositories alone, without HTTP, are tested in test_repository.py."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from tests.auth.conftest import ClientFactory, login, register

Sql = Callable[..., Any]


def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_concurrent_registrations_of_one_email_create_one_account(
    make_client: ClientFactory, sql: Sql
) -> None:
    async with make_client(RATE_LIMIT_ENABLED=False) as client:
        responses = await asyncio.gather(*(register(client) for _ in range(3)))
        assert sorted(r.status_code for r in responses) == [201, 409, 409]
        for response in responses:
            if response.status_code == 409:
                assert response.headers["content-type"].startswith("application/problem+json")
        assert len(await sql("SELECT id FROM users")) == 1


async def test_an_unreachable_database_is_503_not_500(make_client: ClientFactory) -> None:
    async with make_client(POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=closed_port()) as client:
        responses = [await register(client), await login(client)]
    for response in responses:
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.headers["cache-control"] == "no-store"
        assert "Traceback" not in response.text
