"""One observation per request: status and duration, shared by metrics and the access line."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import Message, Receive, Scope, Send

from app.core.http.observation import OBSERVATION_SCOPE_KEY, Observation
from app.core.metrics.metrics_middleware import MetricsMiddleware
from app.core.middleware.request_id import RequestIDMiddleware
from tests.core.probe_routes import capture_logs


def test_the_status_is_500_until_a_response_starts() -> None:
    assert Observation().status == 500


async def test_recording_keeps_the_status_sent_and_forwards_every_message_unchanged() -> None:
    observation = Observation()
    forwarded: list[Message] = []

    async def send(message: Message) -> None:
        forwarded.append(message)

    messages: list[Message] = [
        {"type": "http.response.start", "status": 201, "headers": [(b"a", b"1")]},
        {"type": "http.response.body", "body": b"made", "more_body": False},
    ]
    recording = observation.recording(send)
    for message in messages:
        await recording(message)
    assert observation.status == 201
    assert forwarded == messages


def test_stop_measures_up_to_its_first_call_and_then_gives_the_same_figure() -> None:
    observation = Observation()
    time.sleep(0.01)
    first = observation.stop()
    time.sleep(0.01)
    assert first >= 0.01
    assert observation.stop() == first


def test_of_takes_the_observation_an_outer_layer_left_in_the_scope() -> None:
    started = Observation()
    assert Observation.of({OBSERVATION_SCOPE_KEY: started}) is started
    scope: dict[str, Any] = {}
    fresh = Observation.of(scope)
    assert fresh is not started
    assert fresh.status == 500
    assert scope == {}  # a layer on its own keeps its observation to itself


async def test_the_metrics_and_the_access_line_count_the_same_observation() -> None:
    """The metrics layer starts it, the request-ID layer inside records and stops it: the
    counter's status and the histogram's seconds are the access line's figures."""
    registry = CollectorRegistry()
    requests = Counter("t_requests", "", ["method", "endpoint", "status"], registry=registry)
    latency = Histogram("t_latency", "", ["method", "endpoint"], registry=registry)
    errors = Counter("t_errors", "", ["endpoint", "exception_type"], registry=registry)
    seen: list[Observation] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope[OBSERVATION_SCOPE_KEY])
        await asyncio.sleep(0.002)
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    stack = MetricsMiddleware(
        RequestIDMiddleware(app),
        requests=requests,
        latency=latency,
        errors=errors,
        status_recorded_inside=True,
    )
    transport = httpx.ASGITransport(app=stack)
    with capture_logs("app.http.access") as logs:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/jobs")

    assert response.status_code == 202
    [observation] = seen
    [(line, _)] = logs.named("request")
    labels = {"method": "POST", "endpoint": "<unmatched>"}
    assert registry.get_sample_value("t_requests_total", {**labels, "status": "202"}) == 1
    seconds = registry.get_sample_value("t_latency_sum", labels)
    assert seconds == observation.stop() >= 0.002
    assert line.status == 202  # type: ignore[attr-defined]
    assert line.duration_ms == round(seconds * 1000, 3)  # type: ignore[attr-defined]
