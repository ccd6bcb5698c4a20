"""The error boundary alone: what escapes the layers inside it becomes problem+json there.

A bare ASGI app stands for the layers below; an outer layer reads what the boundary left
in the scope, as the metrics middleware does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.errors import UNHANDLED_EXCEPTION_STATE_KEY, RateLimitedError
from app.core.middleware.error_boundary import ErrorBoundaryMiddleware
from tests.core.probe_routes import ContextCapture, capture_logs


class Failing:
    """An app that raises `error`, after starting the response if `started`."""

    def __init__(self, error: Exception, *, started: bool = False) -> None:
        self.error = error
        self.started = started

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.started:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        raise self.error


def _client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


@dataclass
class Answer:
    """What a request met: the response, the state left for the outer layers, the logs."""

    response: httpx.Response
    state: dict[str, Any]
    logs: ContextCapture


async def _request_failing_with(error: Exception, method: str, path: str) -> Answer:
    """One request through the boundary around an app raising `error`, under an outer
    layer that keeps the scope's state once the boundary is done."""
    kept: list[dict[str, Any]] = []
    boundary = ErrorBoundaryMiddleware(Failing(error))

    async def outer(scope: Scope, receive: Receive, send: Send) -> None:
        await boundary(scope, receive, send)
        kept.append(scope.get("state", {}))

    with capture_logs("app.core.exceptions") as logs:
        async with _client(outer) as client:
            response = await client.request(method, path)
    [state] = kept
    return Answer(response, state, logs)


async def test_an_unhandled_exception_becomes_a_logged_500_left_for_the_outer_layers() -> None:
    error = RuntimeError("internals: password hunter2")
    answer = await _request_failing_with(error, "GET", "/somewhere")
    response = answer.response

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["title"], body["instance"]) == (
        500,
        "Internal Server Error",
        "/somewhere",
    )
    assert "hunter2" not in response.text
    assert answer.state == {UNHANDLED_EXCEPTION_STATE_KEY: error}
    [(record, _)] = answer.logs.named("unhandled_exception")
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[1] is error


async def test_an_http_error_raised_below_keeps_its_status_and_headers() -> None:
    """A middleware below (the rate limiter) raising an HTTP error is no unhandled one."""
    error = RateLimitedError(detail="slow down", headers={"Retry-After": "7"})
    answer = await _request_failing_with(error, "POST", "/orders")

    assert answer.response.status_code == 429
    assert answer.response.headers["retry-after"] == "7"
    assert answer.response.json()["detail"] == "slow down"
    assert answer.state == {}
    assert answer.logs.records == []


async def test_an_exception_after_the_response_started_is_raised_for_the_server() -> None:
    """A second response can't follow a started one: the server must abort the connection."""
    app = ErrorBoundaryMiddleware(Failing(RuntimeError("mid-stream"), started=True))
    async with _client(app) as client:
        with pytest.raises(RuntimeError, match="mid-stream"):
            await client.get("/stream")


async def test_other_scopes_pass_through_untouched() -> None:
    app = ErrorBoundaryMiddleware(Failing(RuntimeError("lifespan failed")))

    async def receive() -> dict[str, Any]:
        return {"type": "lifespan.startup"}

    async def send(message: Any) -> None:
        raise AssertionError("nothing is sent for a lifespan error")

    with pytest.raises(RuntimeError, match="lifespan failed"):
        await app({"type": "lifespan"}, receive, send)
