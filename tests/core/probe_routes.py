"""Test-only routes added to an app built by `create_app`, to drive every HTTP path.

They live here, not in the product: a test adds them to its own app after startup.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Header, Request, WebSocket
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator

from app.core.dependencies import DeviceInfoDep, ResponseFactoryDep
from app.core.exceptions import AppHTTPException, AuthenticationError, ConflictError
from app.core.logger import request_id_ctx
from app.core.response import SuccessEnvelope, problem_responses
from app.core.schemas import BaseDTO

PREFIX = "/probe"


class Credentials(BaseDTO):
    email: str
    password: str
    profile: dict[str, Any] = Field(default_factory=dict)


class Item(BaseModel):
    item_id: int
    name: str


class Odd(BaseModel):
    value: int

    @field_validator("value")
    @classmethod
    def _must_be_odd(cls, value: int) -> int:
        if value % 2 == 0:
            raise ValueError("value must be odd")
        return value


class Gate:
    """An event the streaming endpoint waits on between its two chunks."""

    def __init__(self) -> None:
        self.event = asyncio.Event()


def context_seen_by_dependency() -> str | None:
    return request_id_ctx.get()


def build_probe_router(gate: Gate) -> APIRouter:
    router = APIRouter()

    @router.get("/items/{item_id}", response_model=SuccessEnvelope[Item])
    async def get_item(item_id: int, responses: ResponseFactoryDep) -> object:
        return responses.success(Item(item_id=item_id, name="thing"))

    @router.post(
        "/login",
        response_model=SuccessEnvelope[dict[str, str]],
        responses=problem_responses(401, 409),
    )
    async def login(credentials: Credentials, responses: ResponseFactoryDep) -> object:
        if credentials.email == "taken@example.com":
            raise ConflictError(detail="email taken", errors=[{"field": "email"}])
        if credentials.password != "right":
            raise AuthenticationError(detail="bad credentials")
        return responses.success({"email": credentials.email}, status_code=201)

    @router.post("/odd")
    async def odd(body: Odd, responses: ResponseFactoryDep) -> object:
        return responses.success(body)

    @router.get("/token")
    async def token(authorization: Annotated[int, Header()]) -> object:
        return {"authorization": authorization}

    @router.get("/teapot")
    async def teapot() -> object:
        raise AppHTTPException(
            418,
            "short and stout",
            title="Teapot",
            errors={"handle": "left"},
            meta_extensions={"brew": "earl grey"},
        )

    @router.get("/boom")
    async def boom() -> object:
        raise RuntimeError("secret internals: db password is hunter2")

    @router.get("/context")
    async def context(
        request: Request,
        responses: ResponseFactoryDep,
        from_dependency: Annotated[str | None, Depends(context_seen_by_dependency)],
        device: DeviceInfoDep,
    ) -> object:
        return responses.success(
            {
                "endpoint": request_id_ctx.get(),
                "dependency": from_dependency,
                "state": request.state.request_id,
                "device": device.model_dump(mode="json"),
                "fingerprint": device.fingerprint(),
            }
        )

    @router.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first\n"
            await asyncio.wait_for(gate.event.wait(), timeout=5)
            yield b"second\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    @router.post("/echo-size")
    async def echo_size(request: Request, responses: ResponseFactoryDep) -> object:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return responses.success({"size": size})

    @router.websocket("/ws")
    async def websocket_context(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json(
            {
                "context": request_id_ctx.get(),
                "state": websocket.state.request_id,
                "browser": websocket.state.device_info.browser,
            }
        )
        await websocket.close()

    @router.get("/own-headers")
    async def own_headers(responses: ResponseFactoryDep) -> object:
        return responses.success(None, headers={"X-Frame-Options": "SAMEORIGIN"})

    return router


def add_probe_routes(app: FastAPI) -> Gate:
    """Mount the probe routes under /probe; returns the streaming endpoint's gate."""
    gate = Gate()
    app.include_router(build_probe_router(gate), prefix=PREFIX)
    return gate


class ContextCapture(logging.Handler):
    """Keeps each record with the request ID that was in context when it was logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[tuple[logging.LogRecord, str | None]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append((record, request_id_ctx.get()))

    def named(self, message: str) -> list[tuple[logging.LogRecord, str | None]]:
        return [(record, rid) for record, rid in self.records if record.msg == message]


@contextmanager
def capture_logs(name: str) -> Iterator[ContextCapture]:
    """Capture the records of logger `name` (at INFO and above, whatever the settings)."""
    logger = logging.getLogger(name)
    handler = ContextCapture()
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """The response is RFC 9457 problem+json for `status`, its meta.request_id the header's."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://httpstatuses.io/{status}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["instance"] == response.request.url.path
    assert body["meta"]["success"] is False
    assert body["meta"]["request_id"] == response.headers["x-request-id"]
    return body
