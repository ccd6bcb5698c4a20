"""Liveness and readiness through HTTP, with the database up and unreachable."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
from fastapi import FastAPI

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_liveness_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json()["data"] == {"status": "ok"}


async def test_liveness_envelope_carries_the_request_id(client: httpx.AsyncClient) -> None:
    given = await client.get("/health", headers={"X-Request-ID": "probe-42"})
    assigned = await client.get("/health")
    assert given.json()["meta"]["request_id"] == "probe-42"
    assert given.json()["meta"]["success"] is True
    assert assigned.json()["meta"]["request_id"] == assigned.headers["x-request-id"]


async def test_readiness_reports_each_check(make_client: ClientFactory, redis_url: str) -> None:
    async with make_client(REDIS_URL=redis_url) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200
    checks = response.json()["data"]["checks"]
    assert set(checks) == {"postgres", "redis"}
    for check in checks.values():
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0


async def test_readiness_without_redis_checks_only_postgres(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert response.status_code == 200
    assert set(response.json()["data"]["checks"]) == {"postgres"}


async def test_readiness_is_503_quickly_when_postgres_is_unreachable(
    make_client: ClientFactory,
) -> None:
    async with make_client(POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=closed_port()) as client:
        started = time.monotonic()
        response = await client.get("/health/ready")
        elapsed = time.monotonic() - started
        liveness = await client.get("/health")
    assert response.status_code == 503
    assert elapsed < 2.0
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 503
    assert "postgres" in body["detail"]
    assert [error["check"] for error in body["errors"]] == ["postgres"]
    assert liveness.status_code == 200


async def test_readiness_is_503_when_redis_is_unreachable(make_client: ClientFactory) -> None:
    async with make_client(REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0") as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert [error["check"] for error in response.json()["errors"]] == ["redis"]


async def test_readiness_is_503_while_draining(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> None:
    app_of(client).state.draining = True
    response = await client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["errors"] == [{"check": "shutdown"}]


async def test_head_on_the_probes_answers_like_get_without_a_body(
    make_client: ClientFactory,
) -> None:
    """Uptime checkers probe with HEAD: same status and headers as GET, no body."""
    async with make_client(POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=closed_port()) as down:
        assert (await down.head("/health/ready")).status_code == 503
    async with make_client() as client:
        for path in ("/health", "/health/ready"):
            get = await client.get(path)
            head = await client.head(path)
            assert (head.status_code, get.status_code) == (200, 200), path
            assert head.content == b""
            assert head.headers["content-type"] == get.headers["content-type"]


async def test_readiness_503_tells_when_to_retry(make_client: ClientFactory) -> None:
    async with make_client(POSTGRES_HOST="127.0.0.1", POSTGRES_PORT=closed_port()) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
