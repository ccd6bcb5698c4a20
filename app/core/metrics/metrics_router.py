"""GET /metrics and GET /metrics/{prefix}: the Prometheus text exposition.

With METRICS_AUTH_TOKEN set, both require `Authorization: Bearer <token>`, compared in
constant time; anything else is a 401 problem+json. The endpoints are `async def` like
every provider (tests/test_route_dependencies.py) and hand the rendering itself to the
thread pool, so a large scrape does not hold the event loop.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from app.core.dependencies import SettingsDep
from app.core.errors import AuthenticationError
from app.core.http.no_store import NoStoreRoute
from app.core.metrics.prometheus import CONTENT_TYPE_LATEST, prometheus


async def require_metrics_token(request: Request, settings: SettingsDep) -> None:
    """Let the scrape through when no token is configured or the bearer token matches."""
    if settings.METRICS_AUTH_TOKEN is None:
        return
    expected = settings.METRICS_AUTH_TOKEN.get_secret_value().encode()
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        credentials.strip().encode(), expected
    ):
        raise AuthenticationError(detail="A valid metrics bearer token is required.")


# no-store: the exposition describes the live process; no cache may keep or replay it.
metrics_router = APIRouter(
    tags=["metrics"], dependencies=[Depends(require_metrics_token)], route_class=NoStoreRoute
)

_EXPOSITION: dict[int | str, dict[str, Any]] = {
    200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Text exposition"}
}


@metrics_router.get(
    "/metrics", summary="All Prometheus metrics", response_class=Response, responses=_EXPOSITION
)
async def all_metrics() -> Response:
    return Response(await run_in_threadpool(prometheus.render), media_type=CONTENT_TYPE_LATEST)


@metrics_router.get(
    "/metrics/{prefix}",
    summary="Prometheus metrics whose name starts with prefix",
    response_class=Response,
    responses=_EXPOSITION,
)
async def metrics_with_prefix(prefix: str) -> Response:
    exposition = await run_in_threadpool(prometheus.render, prefix)
    return Response(exposition, media_type=CONTENT_TYPE_LATEST)
