"""Every error path through HTTP: RFC 9457 problem+json with the request's X-Request-ID."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import httpx
import pytest
from fastapi import FastAPI

from tests.core.probe_routes import add_probe_routes, assert_problem, capture_logs

ClientFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]
ORIGIN = "https://app.example"


@pytest.fixture
async def client(
    make_client: ClientFactory, app_of: Callable[[httpx.AsyncClient], FastAPI]
) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(CORS_ALLOW_ORIGINS=[ORIGIN], MAX_REQUEST_BODY_BYTES=4096) as http:
        add_probe_routes(app_of(http))
        yield http


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    body = assert_problem(response, 404)
    assert body["title"] == "Not Found"
    assert "errors" not in body


async def test_wrong_method_is_405_problem_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    body = assert_problem(response, 405)
    assert body["title"] == "Method Not Allowed"
    assert response.headers["allow"] == "GET"


async def test_app_http_exception_fields_reach_the_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/teapot")
    body = assert_problem(response, 418)
    assert body["title"] == "Teapot"
    assert body["detail"] == "short and stout"
    assert body["errors"] == {"handle": "left"}
    assert body["meta"]["brew"] == "earl grey"


async def test_authentication_error_asks_for_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/login", json={"email": "a@example.com", "password": "wrong"}
    )
    body = assert_problem(response, 401)
    assert body["title"] == "Unauthorized"
    assert body["detail"] == "bad credentials"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_conflict_carries_structured_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/login", json={"email": "taken@example.com", "password": "right"}
    )
    body = assert_problem(response, 409)
    assert body["errors"] == [{"field": "email"}]


async def test_validation_error_is_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/items/not-a-number")
    body = assert_problem(response, 422)
    [error] = body["errors"]
    assert error["loc"] == ["path", "item_id"]
    assert error["type"] == "int_parsing"
    assert error["input"] == "not-a-number"


async def test_validation_never_echoes_a_password(client: httpx.AsyncClient) -> None:
    # A "missing" error echoes the whole body as input, password included.
    response = await client.post(
        "/probe/login",
        json={"password": "hunter2-secret", "profile": {"api_token": "tok-123", "city": "Oslo"}},
    )
    body = assert_problem(response, 422)
    assert "hunter2-secret" not in response.text
    assert "tok-123" not in response.text
    [error] = body["errors"]
    assert error["loc"] == ["body", "email"]
    assert error["input"]["password"] == "[REDACTED]"
    assert error["input"]["profile"] == {"api_token": "[REDACTED]", "city": "Oslo"}


async def test_validation_drops_the_input_of_a_secret_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/login", json={"email": "a@example.com", "password": ["hunter2-secret"]}
    )
    body = assert_problem(response, 422)
    assert "hunter2-secret" not in response.text
    [error] = body["errors"]
    assert error["loc"] == ["body", "password"]
    assert "input" not in error


async def test_validation_hides_an_authorization_header(client: httpx.AsyncClient) -> None:
    response = await client.get("/probe/token", headers={"Authorization": "Bearer s3cr3t-value"})
    body = assert_problem(response, 422)
    assert "s3cr3t-value" not in response.text
    assert body["errors"][0]["loc"] == ["header", "authorization"]


async def test_validation_strips_unserialisable_ctx(client: httpx.AsyncClient) -> None:
    # pydantic puts the ValueError object itself in ctx["error"].
    response = await client.post("/probe/odd", json={"value": 2})
    body = assert_problem(response, 422)
    [error] = body["errors"]
    assert error["type"] == "value_error"
    assert error["msg"] == "Value error, value must be odd"
    assert "error" not in error.get("ctx", {})


async def test_validation_bounds_the_echoed_input(client: httpx.AsyncClient) -> None:
    response = await client.post("/probe/odd", json={"value": "9" * 3000 + "x"})
    body = assert_problem(response, 422)
    echoed = body["errors"][0]["input"]
    assert echoed.startswith("999")
    assert len(echoed) <= 257
    assert len(response.content) < 1500


async def test_extra_fields_are_forbidden(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/probe/login", json={"email": "a@example.com", "password": "right", "is_admin": True}
    )
    body = assert_problem(response, 422)
    assert [(error["type"], error["loc"]) for error in body["errors"]] == [
        ("extra_forbidden", ["body", "is_admin"])
    ]


async def test_unhandled_exception_is_a_generic_500(client: httpx.AsyncClient) -> None:
    with capture_logs("app.core.exceptions") as logs:
        response = await client.get("/probe/boom", headers={"Origin": ORIGIN})
    body = assert_problem(response, 500)
    assert body["title"] == "Internal Server Error"
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    # The 500 still went through the security-header and CORS layers.
    assert response.headers["x-content-type-options"] == "nosniff"
    assert (
        response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["access-control-allow-origin"] == ORIGIN
    [(record, request_id)] = logs.named("unhandled_exception")
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
    assert request_id == response.headers["x-request-id"]
