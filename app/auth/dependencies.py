"""Auth dependencies: the service, the current user (HTTP and WebSocket), role checks.

`get_current_user_session` and `get_current_user_session_ws` set `user_id_ctx`, so every
log line written while serving an authenticated request or connection carries the user.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Request, WebSocket, WebSocketException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.repository import SessionRepository, UserRepository, commit_translated
from app.auth.service import (
    SESSION_ENDED,
    AuthConfig,
    AuthService,
    CurrentSession,
    decode_access_claims,
    parse_session_id,
)
from app.auth.session_cache import CachedCaller, SessionCache
from app.auth.session_watch import SessionWatch
from app.core.config import Settings
from app.core.dependencies import JWTServiceDep, PasswordSecurityDep
from app.core.exceptions import (
    AppHTTPException,
    AuthenticationError,
    PermissionDeniedError,
    ServiceUnavailableError,
)
from app.core.logger import get_logger, user_id_ctx
from app.core.security import JWTService, PasswordSecurity
from app.db.postgres import DbSessionDep
from app.db.postgres.driver import DriverPool
from app.db.postgres.session import SessionOnDemand

logger = get_logger("app.auth.dependencies")

# Browsers cannot set headers on a WebSocket handshake; the token travels as the second
# offered subprotocol (`new WebSocket(url, ["bearer", token])`) and "bearer" is accepted.
WS_BEARER_SUBPROTOCOL = "bearer"

bearer_scheme = HTTPBearer(auto_error=False, description="An access token from /api/auth/login.")


def auth_config(settings: Settings) -> AuthConfig:
    """The service's view of Settings."""
    return AuthConfig(
        session_lifetime=settings.session_default_timedelta,
        refresh_reuse_grace=timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS),
        email_digest_key=settings.email_digest_key,
        max_sessions_per_user=settings.MAX_SESSIONS_PER_USER,
    )


def build_auth_service(
    db: AsyncSession | SessionOnDemand,
    passwords: PasswordSecurity,
    tokens: JWTService,
    settings: Settings,
    driver: DriverPool | None = None,
) -> AuthService:
    """An AuthService over the unit of work `db` (and `driver` for login and refresh)."""
    source = SessionOnDemand.of(db)  # one session for both repositories
    return AuthService(
        users=UserRepository(source, driver),
        sessions=SessionRepository(source, driver),
        passwords=passwords,
        tokens=tokens,
        config=auth_config(settings),
    )


async def get_auth_service(request: Request, db: DbSessionDep) -> AuthService:
    # The app's singletons are read here rather than through their providers: FastAPI
    # spends about 10 µs solving each sub-dependency, on every auth request.
    return _service_over(db, request.app.state)


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_standalone_service(request: Request) -> AuthService:
    """An AuthService for the use cases that open their own unit of work: login, refresh.

    Their common path is autocommitted statements (`app.db.postgres.driver`) that never
    touch the session; the rest (a refresh under the row lock, a password rehash) run
    in a unit of work the use case commits and closes itself. Not a generator
    dependency over `DbSessionDep`: FastAPI's handling of one, and opening and closing
    a session nobody used, cost about 65 µs per request.

    The session is made only if a use case needs it (`SessionOnDemand`), and it does not
    begin transactions by itself (`autobegin=False`): a use case that touched it outside a
    unit of work would leave its transaction, its locks and its pooled connection open
    after the request; it fails at once instead.
    """
    state = request.app.state
    engine = state.engine
    session = SessionOnDemand(lambda: AsyncSession(engine, expire_on_commit=False, autobegin=False))
    return _service_over(session, state)


def _service_over(db: AsyncSession | SessionOnDemand, state: Any) -> AuthService:
    """An AuthService over `db` with the app's own singletons (from `app.state`)."""
    return build_auth_service(
        db, state.password_security, state.jwt_service, state.settings, state.driver_pool
    )


StandaloneAuthServiceDep = Annotated[AuthService, Depends(get_standalone_service)]


async def get_current_user_session(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    tokens: JWTServiceDep,
) -> CurrentSession:
    """The caller of this HTTP request; 401 with `WWW-Authenticate: Bearer` otherwise.

    Most requests are answered from the process's `SessionCache` without touching the
    database; a miss (or a distrusted cache) authenticates in a short unit of work of
    its own, so an endpoint that only needs the caller never holds a pooled connection.
    `user_id_ctx` is left set: the request runs in its own context, and the access log
    line written after the endpoint should carry the user too.
    """
    if credentials is None:
        raise AuthenticationError(detail="missing bearer token")
    current = await authenticate_cached(request.app.state, tokens, credentials.credentials)
    user_id_ctx.set(str(current.user.id))
    return current


async def authenticate_cached(state: Any, tokens: JWTService, token: str) -> CurrentSession:
    """`AuthService.authenticate`, answered from the session cache when it can be."""
    cache: SessionCache | None = getattr(state, "session_cache", None)
    if cache is None:
        return await _authenticate_in_database(state, tokens, token)
    claims = decode_access_claims(tokens, token)
    session_id = parse_session_id(claims)
    cached = cache.get(session_id)
    if cached is None or str(cached.user_id) != claims["sub"]:
        generation = cache.generation
        current = await _authenticate_in_database(state, tokens, token)
        cache.put(CachedCaller.of(current.session), generation=generation)
        return current
    now = datetime.now(UTC)
    if cached.expires_at <= now:
        raise AuthenticationError(detail=SESSION_ENDED)
    config = auth_config(state.settings)
    if now - cached.last_used_at >= config.activity_resolution:
        await _touch(state, session_id, now, config.activity_resolution)
        cache.touched(cached, now)
    return CurrentSession.of(cached.session)


async def _authenticate_in_database(state: Any, tokens: JWTService, token: str) -> CurrentSession:
    """Authenticate in a unit of work of its own, once more if a pooled connection was dead.

    The pool does not ping connections at checkout; a connection that died meanwhile
    (database restarted, idle connection cut) fails on first use and is invalidated
    with every older pooled one. Authentication is safe to repeat, so it is retried
    once on a fresh connection rather than answered 503.
    """
    try:
        return await _authenticate_once(state, tokens, token)
    except ServiceUnavailableError as e:
        if not (isinstance(e.__cause__, DBAPIError) and e.__cause__.connection_invalidated):
            raise
    return await _authenticate_once(state, tokens, token)


async def _authenticate_once(state: Any, tokens: JWTService, token: str) -> CurrentSession:
    sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
    async with sessionmaker() as db:
        service = build_auth_service(db, state.password_security, tokens, state.settings)
        current = await service.authenticate(token)
        await commit_translated(db)
    return current


async def _touch(state: Any, session_id: uuid.UUID, now: datetime, every: timedelta) -> None:
    sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
    async with sessionmaker() as db:
        await SessionRepository(db).touch(session_id, now, every=every)
        await commit_translated(db)


CurrentSessionDep = Annotated[CurrentSession, Depends(get_current_user_session)]


def ws_token(websocket: WebSocket) -> str | None:
    """The access token offered in `Sec-WebSocket-Protocol` or, failing that, `?token=`."""
    offered: list[str] = websocket.scope.get("subprotocols") or []
    if len(offered) >= 2 and offered[0] == WS_BEARER_SUBPROTOCOL:
        return offered[1]
    return websocket.query_params.get("token")


def ws_subprotocol(websocket: WebSocket) -> str | None:
    """The subprotocol to accept: "bearer" when the client offered it."""
    offered: list[str] = websocket.scope.get("subprotocols") or []
    return WS_BEARER_SUBPROTOCOL if WS_BEARER_SUBPROTOCOL in offered else None


async def get_current_user_session_ws(
    websocket: WebSocket, passwords: PasswordSecurityDep, tokens: JWTServiceDep
) -> AsyncIterator[CurrentSession]:
    """The caller of this WebSocket; closes with 1008 (policy violation) otherwise.

    The lookup uses a short transaction of its own: a connection may stay open for
    hours and must not hold a pooled database connection meanwhile. On failure the
    handshake is accepted before closing, because a close before accept reaches the
    client as a bare HTTP 403 and a browser never sees the 1008 code.
    """
    state = websocket.app.state
    sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
    try:
        token = ws_token(websocket)
        if not token:
            raise AuthenticationError(detail="missing bearer token")
        async with sessionmaker() as db, db.begin():
            service = build_auth_service(db, passwords, tokens, state.settings)
            current = await service.authenticate(token)
    except AppHTTPException as e:
        code = (
            status.WS_1013_TRY_AGAIN_LATER
            if isinstance(e, ServiceUnavailableError)
            else status.WS_1008_POLICY_VIOLATION
        )
        logger.info("websocket_auth_failed", extra={"reason": e.detail, "close_code": code})
        await websocket.accept(subprotocol=ws_subprotocol(websocket))
        raise WebSocketException(code=code, reason=e.detail) from e
    reset = user_id_ctx.set(str(current.user.id))
    try:
        yield current
    finally:
        user_id_ctx.reset(reset)


CurrentSessionWsDep = Annotated[CurrentSession, Depends(get_current_user_session_ws)]


async def get_session_watch(
    websocket: WebSocket,
    current: CurrentSessionWsDep,
    passwords: PasswordSecurityDep,
    tokens: JWTServiceDep,
) -> SessionWatch:
    """What ends this authenticated WebSocket: its token's `exp`, or its session ending.

    Depends on `current`, so it runs only for a connection that authenticated.
    """
    state = websocket.app.state
    settings: Settings = state.settings
    sessionmaker: async_sessionmaker[AsyncSession] = state.sessionmaker
    token = ws_token(websocket) or ""
    expires_at = tokens.decode_access_token(token)["exp"]

    async def check() -> CurrentSession:
        async with sessionmaker() as db, db.begin():
            return await build_auth_service(db, passwords, tokens, settings).authenticate(token)

    return SessionWatch(
        expires_at=expires_at, check_every=settings.WS_SESSION_CHECK_SECONDS, check=check
    )


SessionWatchDep = Annotated[SessionWatch, Depends(get_session_watch)]


def require_roles(*roles: str) -> Callable[..., Awaitable[CurrentSession]]:
    """A dependency that admits callers holding every one of `roles`; 403 otherwise."""
    required = frozenset(roles)

    async def check_roles(current: CurrentSessionDep) -> CurrentSession:
        missing = sorted(required.difference(current.user.roles))
        if missing:
            raise PermissionDeniedError(
                detail="missing required role", errors=[{"missing_roles": missing}]
            )
        return current

    return check_roles
