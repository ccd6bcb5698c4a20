"""`/api/auth`: register, login, refresh, logout (one or all sessions), password change, me,
sessions and an authenticated WebSocket.

Handlers only parse, call `AuthService` and wrap the result in the success envelope.
Every response of these routes, errors included, carries `Cache-Control: no-store`:
tokens and account data must not be kept by browsers or shared caches.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, WebSocket, WebSocketDisconnect, status
from fastapi.responses import JSONResponse

from app.auth.dependencies import (
    AuthServiceDep,
    CurrentSessionDep,
    CurrentSessionWsDep,
    SessionWatchDep,
    StandaloneAuthServiceDep,
    ws_subprotocol,
)
from app.auth.schemas import (
    LoginRequest,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
    SessionRead,
    TokenPair,
    UserRead,
)
from app.core.dependencies import DeviceInfoDep, ResponseFactoryDep
from app.core.http.no_store import NoStoreRoute
from app.core.logger import get_logger
from app.core.response import ResponseFactory, SuccessEnvelope

logger = get_logger("app.auth.router")


auth_router = APIRouter(tags=["auth"], route_class=NoStoreRoute)

UNAUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, invalid or expired access token, or session ended"}
}


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account",
    response_model=SuccessEnvelope[UserRead],
    responses={
        409: {"description": "The email is already registered"},
        429: {"description": "Too many registrations from this address"},
    },
)
async def register(
    data: RegisterRequest, service: AuthServiceDep, responses: ResponseFactoryDep
) -> JSONResponse:
    user = await service.register(data=data)
    return responses.success(
        UserRead.model_validate(user, from_attributes=True),
        status_code=status.HTTP_201_CREATED,
    )


@auth_router.post(
    "/login",
    summary="Open a session and get a token pair",
    response_model=SuccessEnvelope[TokenPair],
    responses={
        401: {"description": "Wrong email or password (one answer for both)"},
        429: {"description": "Too many attempts for this address or email"},
    },
)
async def login(
    data: LoginRequest,
    device: DeviceInfoDep,
    service: StandaloneAuthServiceDep,
    responses: ResponseFactoryDep,
) -> JSONResponse:
    return responses.success(await service.login(data=data, device=device))


@auth_router.post(
    "/refresh",
    summary="Rotate the refresh token of a session",
    response_model=SuccessEnvelope[TokenPair],
    responses={
        401: {"description": "Invalid, reused, expired or revoked refresh token"},
        429: {"description": "Too many refreshes from this address or of this session"},
    },
)
async def refresh(
    data: RefreshRequest, request: Request, service: StandaloneAuthServiceDep
) -> JSONResponse:
    # Not ResponseFactoryDep, as for /health: a sub-dependency fewer for FastAPI to solve
    # on a route clients call every few minutes per session.
    return ResponseFactory(request).success(await service.refresh(data=data))


@auth_router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke the current session",
    responses=UNAUTHENTICATED,
)
async def logout(current: CurrentSessionDep, service: AuthServiceDep) -> Response:
    await service.logout(current)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke every session of the current user, this one included",
    responses=UNAUTHENTICATED,
)
async def logout_all(current: CurrentSessionDep, service: AuthServiceDep) -> Response:
    await service.logout_all(current)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.post(
    "/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Change the current user's password; its other sessions are revoked",
    responses={
        **UNAUTHENTICATED,
        422: {"description": "Wrong current password, or the new one fails the policy"},
        429: {"description": "Too many password changes from this address"},
    },
)
async def change_password(
    data: PasswordChangeRequest, current: CurrentSessionDep, service: AuthServiceDep
) -> Response:
    await service.change_password(current, data=data)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.get(
    "/me",
    summary="The current user",
    response_model=SuccessEnvelope[UserRead],
    responses=UNAUTHENTICATED,
)
async def me(current: CurrentSessionDep, responses: ResponseFactoryDep) -> JSONResponse:
    return responses.success(UserRead.model_validate(current.user, from_attributes=True))


SESSIONS_PAGE_MAX = 100


@auth_router.get(
    "/sessions",
    summary="The current user's active sessions, a page at a time",
    description=(
        "Most recently used first. `limit` sessions per page (default 20, at most "
        f"{SESSIONS_PAGE_MAX}); when more remain, `meta.next_cursor` is the `cursor` of the "
        "next page (null on the last page)."
    ),
    response_model=SuccessEnvelope[list[SessionRead]],
    responses=UNAUTHENTICATED,
)
async def list_sessions(
    current: CurrentSessionDep,
    service: AuthServiceDep,
    responses: ResponseFactoryDep,
    limit: Annotated[int, Query(ge=1, le=SESSIONS_PAGE_MAX)] = 20,
    cursor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
) -> JSONResponse:
    sessions, next_cursor = await service.list_sessions(current, limit=limit, cursor=cursor)
    return responses.success(sessions, meta_extensions={"next_cursor": next_cursor})


@auth_router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of the current user's sessions",
    responses={**UNAUTHENTICATED, 404: {"description": "No such session of this user"}},
)
async def revoke_session(
    session_id: uuid.UUID, current: CurrentSessionDep, service: AuthServiceDep
) -> Response:
    await service.revoke_session(current, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@auth_router.websocket("/ws")
async def websocket_echo(
    websocket: WebSocket, current: CurrentSessionWsDep, watch: SessionWatchDep
) -> None:
    """Greet the authenticated caller with its ids, then echo every message.

    The connection is closed with 1008 when its session ends (logout, revocation,
    deactivation) or its access token expires, whichever comes first.
    """
    ids = {"user_id": str(current.user.id), "session_id": str(current.session.id)}
    await websocket.accept(subprotocol=ws_subprotocol(websocket))
    logger.info("websocket_connected", extra={"session_id": ids["session_id"]})
    await websocket.send_json(ids)
    echo = asyncio.create_task(_echo(websocket))
    ended = asyncio.create_task(watch.wait_until_ended())
    try:
        await asyncio.wait((echo, ended), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (echo, ended):
            task.cancel()
        await asyncio.wait((echo, ended))
    if not echo.cancelled():
        echo.result()  # the client left first (or the echo failed: let it surface)
    elif not ended.cancelled():
        reason = ended.result()
        logger.info("websocket_session_ended", extra={**ids, "reason": reason})
        await websocket.close(code=status.WS_1008_POLICY_VIOLATION, reason=reason)
    logger.info("websocket_disconnected", extra={"session_id": ids["session_id"]})


async def _echo(websocket: WebSocket) -> None:
    """Send every message back until the client disconnects."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            elif message.get("bytes") is not None:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:
        return
