"""Ours' variants come from the app factory's own switches, not from editing an app or a
global: a middleware left out (the in-process rows' "µs of X"), another router at /api
(the "endpoint in app/api.py" row)."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from app.api import api_router
from app.core.config import Settings
from app.core.metrics.metrics_middleware import UNMATCHED
from app.core.metrics.prometheus import prometheus
from app.core.middleware.request_id import RequestIDMiddleware
from app.main import create_app
from bench.apps import probe
from bench.apps.ours import middleware_classes, ours_app


def test_a_layer_left_out_is_the_only_one_missing_and_the_rest_keep_their_order(
    tmp_path: Path,
) -> None:
    full = middleware_classes(ours_app(tmp_path))
    assert len(full) == 8

    for layer in full:
        stack = middleware_classes(ours_app(tmp_path, middleware_left_out={layer}))
        assert stack == [other for other in full if other is not layer], layer.__name__


def test_ours_app_takes_the_benchmarks_settings_and_overrides(tmp_path: Path) -> None:
    app = ours_app(tmp_path, LOG_ACCESS=False)

    assert app.state.settings.ENVIRONMENT == "production"
    assert app.state.settings.LOG_ACCESS is False
    assert app.state.settings.LOG_DIR == tmp_path


async def _get(app: FastAPI, path: str) -> httpx.Response:
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://testserver"
        ) as client,
    ):
        return await client.get(path)


def _count(status: str) -> float:
    labels = {"method": "GET", "endpoint": UNMATCHED, "status": status}
    return prometheus.registry.get_sample_value("app_requests_total", labels) or 0.0


async def test_without_the_request_id_layer_the_metrics_record_the_status_themselves(
    settings: Settings,
) -> None:
    before = _count("404")
    app = create_app(settings, middleware_left_out={RequestIDMiddleware})

    response = await _get(app, "/no-such-page")

    assert response.status_code == 404
    assert "x-request-id" not in response.headers
    assert _count("404") == before + 1


async def test_a_router_given_as_api_is_served_under_api_and_app_api_is_left_alone(
    settings: Settings,
) -> None:
    routes_before = list(api_router.routes)

    with_probe = await _get(create_app(settings, api=probe.api_with_probe()), probe.API_PATH)
    without = await _get(create_app(settings), probe.API_PATH)

    assert with_probe.status_code == 200
    assert with_probe.json() == probe.BODY
    assert without.status_code == 404
    assert api_router.routes == routes_before
