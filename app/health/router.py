"""Liveness and readiness probes.

`/health` answers as long as the process serves requests. `/health/ready` checks each
dependency concurrently, each bounded by a timeout, and answers 503 while draining.
Both answer HEAD as GET without the body: uptime checkers probe with HEAD.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.core.dependencies import ResponseFactoryDep
from app.core.exceptions import ServiceUnavailableError
from app.core.response import ResponseFactory, SuccessEnvelope, problem_responses

CHECK_TIMEOUT_SECONDS = 1.0

health_router = APIRouter(tags=["health"])


class Liveness(BaseModel):
    status: Literal["ok"]


class CheckResult(BaseModel):
    status: Literal["ok", "error"]
    latency_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: Literal["ok"]
    checks: dict[str, CheckResult]


# HEAD routes of their own, left out of the OpenAPI document: one route with both
# methods would give two operations one operationId.
@health_router.head("/health", include_in_schema=False)
@health_router.get(
    "/health",
    summary="Liveness: the process is serving",
    response_model=SuccessEnvelope[Liveness],
)
async def liveness(request: Request) -> object:
    # Not ResponseFactoryDep: FastAPI's solving of one sub-dependency costs about 10 µs
    # per request, a sixth of this route's in-process cost, and probes call it often.
    return ResponseFactory(request).success({"status": "ok"})


@health_router.head("/health/ready", include_in_schema=False)
@health_router.get(
    "/health/ready",
    summary="Readiness: dependencies answer",
    response_model=SuccessEnvelope[Readiness],
    responses=problem_responses(503),
)
async def readiness(request: Request, responses: ResponseFactoryDep) -> object:
    state = request.app.state
    if state.draining:  # the lifespan sets it, and every other name below
        raise ServiceUnavailableError(detail="shutting down", errors=[{"check": "shutdown"}])
    checks: dict[str, Callable[[], Awaitable[Any]]] = {"postgres": _postgres_check(state.engine)}
    redis = state.redis
    if redis is not None:
        checks["redis"] = redis.ping
    abandoned: AbandonedChecks = state.abandoned_checks
    results = await asyncio.gather(*(_timed(check, abandoned) for check in checks.values()))
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


class AbandonedChecks:
    """Checks that timed out, still cleaning up after their cancellation.

    Held here so that asyncio keeps a reference to each until it ends; the lifespan owns
    one per app and, at shutdown, gives them a moment to finish before the engine goes.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved, so asyncio does not log it

    async def wait(self) -> None:
        """Wait for them to end, CHECK_TIMEOUT_SECONDS at the most."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CHECK_TIMEOUT_SECONDS)


async def _timed(check: Callable[[], Awaitable[Any]], abandoned: AbandonedChecks) -> dict[str, Any]:
    """Run `check`, answering after CHECK_TIMEOUT_SECONDS at the latest.

    A timed-out check is cancelled but not awaited: its cleanup may itself wait on the
    dead peer (SQLAlchemy gives asyncpg a shielded 2 s graceful close), and readiness
    must answer now.
    """
    started = time.perf_counter()
    task = asyncio.ensure_future(check())
    await asyncio.wait([task], timeout=CHECK_TIMEOUT_SECONDS)
    if not task.done():
        task.cancel()
        abandoned.keep(task)
        outcome: dict[str, Any] = {"status": "error", "error": "timeout"}
    elif (error := task.exception()) is not None:  # any failure means "not ready"
        outcome = {"status": "error", "error": type(error).__name__}
    else:
        outcome = {"status": "ok"}
    outcome["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return outcome
