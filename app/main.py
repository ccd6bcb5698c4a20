"""The application factory and its lifespan: `uvicorn app.main:create_app --factory`.

Importing this module builds nothing and starts nothing (tests/test_main_import.py checks it).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import timedelta
from functools import partial
from types import FrameType
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from fastapi.telemetry import TelemetryConfig
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from app.api import api_router
from app.auth.cache_listener import running_session_cache
from app.auth.rate_limits import register_rate_limits
from app.auth.session_purge import purge_dead_sessions_periodically
from app.core import (
    Settings,
    add_middlewares,
    get_logger,
    get_settings,
    global_background_tasks,
    register_exception_handlers,
    stop_logger,
)
from app.core.audit import AuditVerdict, InsecureSettingsError, audit, log_warnings
from app.core.background_tasks import cancel_background_tasks
from app.core.garbage_collection import frozen_startup_heap
from app.core.http.docs import add_offline_docs
from app.core.init_routers import initiate_routers
from app.core.logger import configure_logging
from app.core.metrics.prometheus import prometheus
from app.core.ratelimit import RateLimiter
from app.core.security import JWTService, PasswordSecurity
from app.db.postgres import create_database_engine, database_error_handler
from app.db.postgres.driver import DriverPool
from app.health.router import AbandonedChecks, health_router

if TYPE_CHECKING:
    from pymongo import AsyncMongoClient
    from redis.asyncio import Redis

logger = get_logger("app.main")

# FastAPI's native OpenTelemetry hooks, off unless OTEL_ENABLED: otherwise every request
# looks up the tracer, meter and logger providers (~4 µs, make bench) to find none set.
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


@contextmanager
def _draining_on_termination(app: FastAPI) -> Iterator[None]:
    """Mark the app as draining as soon as SIGTERM/SIGINT arrives, then let uvicorn act.

    uvicorn runs the lifespan shutdown only after in-flight requests finish, too late
    for readiness to tell a load balancer to stop sending traffic. The previous handlers
    are put back when the app stops.
    """
    replaced: dict[int, Any] = {}
    for sig in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum: int, frame: FrameType | None, _previous: Any = previous) -> None:
            app.state.draining = True
            _previous(signum, frame)

        try:
            signal.signal(sig, handler)
        except ValueError:  # not the main thread: nothing to chain onto
            break
        replaced[sig] = previous
    try:
        yield
    finally:
        for signum, previous in replaced.items():
            signal.signal(signum, previous)


@asynccontextmanager
async def lifespan(
    app: FastAPI, *, settings_verdict: AuditVerdict | None = None
) -> AsyncIterator[None]:
    """Start what serving needs, hand it to the providers on `app.state`, close it after.

    Everything holding a thread, a file, a pool or a connection starts here, none in
    `create_app`: the log listener and its files, the hashing threads, the engine, the
    Redis clients, the session cache's listener, the background tasks. The exit stack
    closes them in the reverse order, the log listener last so that it writes the rest;
    a start that fails halfway closes what it had started.
    """
    settings: Settings = app.state.settings
    configure_logging(settings)
    async with AsyncExitStack() as started:
        started.callback(stop_logger)
        started.callback(logger.info, "shutdown_complete")
        if settings_verdict is not None:
            log_warnings(settings, settings_verdict)
        app.state.draining = False
        app.state.password_security = PasswordSecurity.from_settings(settings)
        started.callback(app.state.password_security.close)
        engine = create_database_engine(settings)
        started.push_async_callback(engine.dispose)
        app.state.engine = engine
        app.state.driver_pool = await DriverPool.open(settings)
        started.push_async_callback(app.state.driver_pool.close)
        app.state.abandoned_checks = AbandonedChecks()  # before the engine goes, they end
        started.push_async_callback(app.state.abandoned_checks.wait)
        app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
        app.state.redis = _redis_client(settings)
        if app.state.redis is not None:
            started.push_async_callback(app.state.redis.aclose)
        rate_limiter: RateLimiter | None = app.state.rate_limiter  # set by add_middlewares
        if rate_limiter is not None:
            started.push_async_callback(rate_limiter.aclose)
            await rate_limiter.start()
        app.state.mongo = _mongo_client(settings)
        if app.state.mongo is not None:
            started.push_async_callback(app.state.mongo.close)
        started.callback(prometheus.mark_process_dead)  # this worker's live gauges leave /metrics
        app.state.session_cache = await started.enter_async_context(
            running_session_cache(settings, engine)
        )
        started.push_async_callback(
            cancel_background_tasks, _start_background_tasks(settings, engine, app)
        )
        logger.info("startup_complete", extra={"environment": settings.ENVIRONMENT})
        with _draining_on_termination(app), frozen_startup_heap():
            try:
                yield
            finally:
                app.state.draining = True


def _redis_client(settings: Settings) -> Redis | None:
    if not settings.REDIS_URL:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)


def _mongo_client(settings: Settings) -> AsyncMongoClient[dict[str, Any]] | None:
    if settings.MONGO_URL is None:
        return None
    # Imported only when configured: pymongo costs ~6 MiB and ~0.05 s per worker.
    from app.db.mongo import create_mongo_client

    return create_mongo_client(settings)


def _start_background_tasks(
    settings: Settings, engine: AsyncEngine, app: FastAPI
) -> list[asyncio.Task[None]]:
    tasks = global_background_tasks(
        engine,
        system_metrics_interval=settings.SYSTEM_METRICS_INTERVAL_SECONDS,
        other_pools=[app.state.driver_pool],
    )
    tasks.append(
        asyncio.create_task(
            purge_dead_sessions_periodically(
                app.state.sessionmaker,
                timedelta(days=settings.SESSION_PURGE_RETENTION_DAYS),
                settings.SESSION_PURGE_INTERVAL_SECONDS,
            ),
            name="purge_dead_sessions",
        )
    )
    return tasks


def create_app(
    settings: Settings | None = None,
    *,
    settings_warnings_logged: bool = False,
    api: APIRouter = api_router,
    middleware_left_out: Collection[type] = (),
) -> FastAPI:
    """Build the service: settings check, middleware, handlers, routers; nothing started.

    uvicorn serves this factory (`app.main:create_app`, factory=True). A caller that has
    logged the settings' warnings already (`python -m app`, before its workers start)
    passes `settings_warnings_logged=True` so that they are logged once per start.
    `api` is the router mounted at `/api` (`app/api.py`'s), and `middleware_left_out`
    the middleware classes to leave out of the stack: `make bench` builds its variants
    of the service (an extra router, a layer fewer) through these, not by editing either.
    """
    settings = settings or get_settings()
    verdict = audit(settings)
    if verdict.refused:
        raise InsecureSettingsError(verdict.refused)
    app = FastAPI(
        title=settings.PROJECT_NAME,
        description=settings.PROJECT_DESCRIPTION,
        version=settings.PROJECT_VERSION,
        lifespan=partial(lifespan, settings_verdict=None if settings_warnings_logged else verdict),
        telemetry=None if settings.OTEL_ENABLED else TELEMETRY_OFF,
        # Starlette builds the trailing-slash redirect from the Host header, and its 307
        # re-POSTs credentials there: a path with a stray slash is a 404 instead.
        redirect_slashes=False,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        docs_url=None,  # add_offline_docs serves /docs and /redoc without a CDN
        redoc_url=None,
    )
    add_offline_docs(app)
    app.state.settings = settings
    app.state.jwt_service = JWTService.from_settings(settings)
    add_middlewares(app, settings, leave_out=middleware_left_out)
    if app.state.rate_limiter is not None:
        register_rate_limits(app.state.rate_limiter, settings)
    register_exception_handlers(app)
    # A database lost at any step of a request is a 503, not a 500.
    app.add_exception_handler(SQLAlchemyError, database_error_handler)
    initiate_routers(
        app,
        health_router=health_router,
        api_router=api,
        index_static_paths=not settings.OTEL_ENABLED,
    )
    return app
