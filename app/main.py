"""The application factory, its lifespan, and the module-level `app` for uvicorn."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from datetime import timedelta
from types import FrameType
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from redis.asyncio import Redis
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import async_sessionmaker

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
from app.core.audit import InsecureSettingsError, audit, log_warnings
from app.core.background_tasks import cancel_background_tasks
from app.core.http.docs import add_offline_docs
from app.core.init_routers import initiate_routers
from app.core.logger import configure_logging
from app.core.metrics.prometheus import prometheus
from app.core.ratelimit import RateLimiter
from app.core.security import JWTService, PasswordSecurity
from app.db.mongo import create_mongo_client
from app.db.postgres import create_database_engine, database_error_handler
from app.health.router import health_router

logger = get_logger("app.main")

# FastAPI's native OpenTelemetry hooks, off unless OTEL_ENABLED: otherwise every request
# looks up the tracer, meter and logger providers (~4 µs, make bench) to find none set.
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _check_settings(settings: Settings) -> None:
    verdict = audit(settings)
    if verdict.refused:
        raise InsecureSettingsError(verdict.refused)
    log_warnings(settings, verdict)


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
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    engine = create_database_engine(settings)
    app.state.engine = engine
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    app.state.redis = (
        Redis.from_url(settings.REDIS_URL, socket_timeout=1.0, socket_connect_timeout=1.0)
        if settings.REDIS_URL
        else None
    )
    app.state.draining = False
    owned = AsyncExitStack()  # closed in `finally`, before the engine is disposed
    app.state.session_cache = await owned.enter_async_context(
        running_session_cache(settings, engine)
    )
    rate_limiter: RateLimiter | None = getattr(app.state, "rate_limiter", None)
    if rate_limiter is not None:
        await rate_limiter.start()
    app.state.mongo = create_mongo_client(settings)
    tasks = global_background_tasks(
        engine, system_metrics_interval=settings.SYSTEM_METRICS_INTERVAL_SECONDS
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
    logger.info("startup_complete", extra={"environment": settings.ENVIRONMENT})
    try:
        with _draining_on_termination(app):
            yield
    finally:
        app.state.draining = True
        await cancel_background_tasks(tasks)
        await owned.aclose()
        prometheus.mark_process_dead()  # this worker's live gauges leave /metrics
        if app.state.mongo is not None:
            await app.state.mongo.close()
        if rate_limiter is not None:
            await rate_limiter.aclose()
        if app.state.redis is not None:
            await app.state.redis.aclose()
        await engine.dispose()
        logger.info("shutdown_complete")
        stop_logger()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service: settings check, logging, middleware, handlers, routers."""
    settings = settings or get_settings()
    configure_logging(settings)
    _check_settings(settings)
    app = FastAPI(
        title=settings.PROJECT_NAME,
        description=settings.PROJECT_DESCRIPTION,
        version=settings.PROJECT_VERSION,
        lifespan=lifespan,
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
    app.state.password_security = PasswordSecurity.from_settings(settings)
    app.state.jwt_service = JWTService.from_settings(settings)
    add_middlewares(app, settings)
    if app.state.rate_limiter is not None:
        register_rate_limits(app.state.rate_limiter, settings)
    register_exception_handlers(app)
    # A database lost at any step of a request is a 503, not a 500.
    app.add_exception_handler(SQLAlchemyError, database_error_handler)
    initiate_routers(app, health_router=health_router, api_router=api_router)
    return app


app = create_app()
