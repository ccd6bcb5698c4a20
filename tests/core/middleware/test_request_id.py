"""The request-ID middleware: which IDs are kept, the context it sets, the access line."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import FastAPI

from app.core.logger import request_id_ctx
from app.core.middleware.request_id import is_valid_request_id
from tests.core.probe_routes import add_probe_routes, assert_problem, capture_logs

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.mark.parametrize(
    "incoming",
    ["abc", "A" * 128, "req-1.2:3_X", "0f8fad5b-d9cb-469f-a165-70867728950e"],
)
async def test_valid_incoming_request_id_is_kept(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming})
    assert response.headers["x-request-id"] == incoming
    assert response.json()["meta"]["request_id"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["", "A" * 129, "has space", "semi;colon", "new\\nline", 'quote"', "ünïcode", "a/b"],
)
async def test_invalid_incoming_request_id_is_replaced(
    client: httpx.AsyncClient, incoming: str
) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming.encode()})
    generated = response.headers["x-request-id"]
    assert generated != incoming
    assert uuid.UUID(generated).version == 4
    assert response.json()["meta"]["request_id"] == generated


async def test_each_request_gets_its_own_id(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/health")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_request_id_rules() -> None:
    assert is_valid_request_id(b"a")
    assert is_valid_request_id(b"A-z_0.9:" * 16)
    assert not is_valid_request_id(b"")
    assert not is_valid_request_id(b"x" * 129)
    assert not is_valid_request_id(b"a b")
    assert not is_valid_request_id(b"a\x00")


async def test_context_var_is_seen_by_endpoint_and_dependency(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/context", headers={"X-Request-ID": "ctx-probe-1"})
    data = response.json()["data"]
    assert data["endpoint"] == "ctx-probe-1"
    assert data["dependency"] == "ctx-probe-1"
    assert data["state"] == "ctx-probe-1"
    # Reset once the request is over (httpx runs the app in this very task).
    assert request_id_ctx.get() is None


async def test_context_var_is_seen_by_the_500_handler(client: httpx.AsyncClient) -> None:
    with capture_logs("app.core.exceptions") as logs:
        response = await client.get("/probe/boom", headers={"X-Request-ID": "ctx-probe-500"})
    assert_problem(response, 500)
    [(_, request_id)] = logs.named("unhandled_exception")
    assert request_id == "ctx-probe-500"
    assert request_id_ctx.get() is None


async def test_every_error_path_carries_the_header_request_id(client: httpx.AsyncClient) -> None:
    paths = {
        404: client.get("/nope"),
        405: client.put("/health"),
        418: client.get("/probe/teapot"),
        422: client.get("/probe/items/x"),
        500: client.get("/probe/boom"),
    }
    for status, pending in paths.items():
        assert_problem(await pending, status)


async def test_one_access_line_per_request_with_route_template(client: httpx.AsyncClient) -> None:
    with capture_logs("app.http.access") as logs:
        response = await client.get("/probe/items/41", headers={"X-Request-ID": "log-1"})
    [(record, request_id)] = logs.named("request")
    assert request_id == "log-1" == response.headers["x-request-id"]
    assert record.method == "GET"  # type: ignore[attr-defined]
    assert record.path == "/probe/items/{item_id}"  # type: ignore[attr-defined]
    assert record.status == 200  # type: ignore[attr-defined]
    assert record.client_ip == "127.0.0.1"  # type: ignore[attr-defined]
    assert 0 < record.duration_ms < 10_000  # type: ignore[attr-defined]


async def test_access_line_of_unmatched_and_failed_requests(client: httpx.AsyncClient) -> None:
    with capture_logs("app.http.access") as logs:
        await client.get("/nope/123")
        await client.get("/probe/boom")
    lines = [(record.path, record.status) for record, _ in logs.named("request")]  # type: ignore[attr-defined]
    assert lines == [("/nope/123", 404), ("/probe/boom", 500)]


async def test_log_access_false_leaves_out_only_the_access_line(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> None:
    async with make_client(LOG_ACCESS=False) as http:
        add_probe_routes(app_of(http))
        with capture_logs("app") as logs:
            ok = await http.get("/probe/items/41", headers={"X-Request-ID": "quiet-1"})
            failed = await http.get("/probe/boom", headers={"X-Request-ID": "quiet-2"})
    assert (ok.status_code, ok.headers["x-request-id"]) == (200, "quiet-1")
    assert failed.status_code == 500
    assert logs.named("request") == []
    assert [request_id for _, request_id in logs.records] == ["quiet-2"]  # the 500's error
