"""Liveness and readiness probes.

`/health` answers as long as the process serves requests. `/health/ready` checks each
dependency concurrently, each bounded by a timeout, and answers 503 while draining.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.dependencies import ResponseFactoryDep
from app.core.exceptions import ServiceUnavailableError

CHECK_TIMEOUT_SECONDS = 1.0

health_router = APIRouter(tags=["health"])


@health_router.get("/health", summary="Liveness: the process is serving")
async def liveness(responses: ResponseFactoryDep) -> object:
    return responses.success({"status": "ok"})


@health_router.get("/health/ready", summary="Readiness: dependencies answer")
async def readiness(request: Request, responses: ResponseFactoryDep) -> object:
    state = request.app.state
    if getattr(state, "draining", False):
        raise ServiceUnavailableError(detail="shutting down", errors=[{"check": "shutdown"}])
    checks: dict[str, Callable[[], Awaitable[Any]]] = {"postgres": _postgres_check(state.engine)}
    redis = getattr(state, "redis", None)
    if redis is not None:
        checks["redis"] = redis.ping
    results = await asyncio.gather(*(_timed(check) for check in checks.values()))
    report = dict(zip(checks, results, strict=True))
    failed = [name for name, result in report.items() if result["status"] != "ok"]
    if failed:
        raise ServiceUnavailableError(
            detail=f"unavailable: {', '.join(failed)}",
            errors=[{"check": name, **report[name]} for name in failed],
        )
    return responses.success({"status": "ok", "checks": report})


def _postgres_check(engine: AsyncEngine) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


async def _timed(check: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await check()
    except TimeoutError:
        outcome: dict[str, Any] = {"status": "error", "error": "timeout"}
    except Exception as exc:  # any failure of a dependency means "not ready"
        outcome = {"status": "error", "error": type(exc).__name__}
    else:
        outcome = {"status": "ok"}
    outcome["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return outcome
