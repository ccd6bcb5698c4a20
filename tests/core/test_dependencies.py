"""The providers: DeviceInfoDep (the middleware's device info, or computed for an app without
it), and the security services over HTTP and WebSockets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
from fastapi import FastAPI, Request, WebSocket

from app.core.config import Settings
from app.core.dependencies import DeviceInfoDep, JWTServiceDep, PasswordSecurityDep

SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)


def bare_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings

    @app.get("/device")
    async def device(info: DeviceInfoDep) -> dict[str, str | None]:
        return {"fingerprint": info.fingerprint(), "ip": info.ip_address}

    return app


async def test_device_info_without_the_middleware_honours_trusted_proxies(
    settings: Settings,
) -> None:
    app = bare_app(settings.model_copy(update={"TRUSTED_PROXIES": ["10.0.0.0/8"]}))
    transport = httpx.ASGITransport(app=app, client=("10.0.0.9", 1234))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get(
            "/device", headers={"User-Agent": SAFARI_IPHONE, "X-Forwarded-For": "203.0.113.5"}
        )
    assert response.json() == {"fingerprint": "mobile | iOS | Safari", "ip": "203.0.113.5"}


async def test_device_info_comes_from_the_middleware_when_present(
    client: httpx.AsyncClient,
) -> None:
    app: FastAPI = client.app  # type: ignore[attr-defined]

    @app.get("/device-from-state")
    async def device(info: DeviceInfoDep, request: Request) -> dict[str, bool | str]:
        return {"same": info is request.state.device_info, "fingerprint": info.fingerprint()}

    response = await client.get("/device-from-state", headers={"User-Agent": SAFARI_IPHONE})
    assert response.json() == {"same": True, "fingerprint": "mobile | iOS | Safari"}


USER, SESSION = "0b7c7f5e-0000-4000-8000-000000000001", "0b7c7f5e-0000-4000-8000-000000000002"


async def websocket_messages(app: Any, path: str) -> list[dict[str, Any]]:
    """Drive one WebSocket session over ASGI: connect, then collect what the app sends."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    inbox.put_nowait({"type": "websocket.connect"})
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "websocket.close":
            inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "subprotocols": [],
        "state": {},
    }
    await app(scope, inbox.get, send)
    return sent


async def test_dependencies_serve_http_and_websockets(
    client: httpx.AsyncClient, app_of: Callable[[httpx.AsyncClient], Any]
) -> None:
    app = app_of(client)

    async def over_http(jwt_service: JWTServiceDep, passwords: PasswordSecurityDep) -> Any:
        token = jwt_service.create_access_token(USER, [], SESSION)
        return {"sub": jwt_service.decode_access_token(token)["sub"], "max": passwords.max_length}

    async def over_websocket(
        websocket: WebSocket, jwt_service: JWTServiceDep, passwords: PasswordSecurityDep
    ) -> None:
        await websocket.accept()
        same = jwt_service is websocket.app.state.jwt_service
        await websocket.send_json({"same": same, "min": passwords.min_length})
        await websocket.close()

    app.add_api_route("/test/security", over_http)
    app.add_api_websocket_route("/test/security/ws", over_websocket)

    assert (await client.get("/test/security")).json() == {"sub": USER, "max": 128}
    sent = await websocket_messages(app, "/test/security/ws")
    assert [message["type"] for message in sent] == [
        "websocket.accept",
        "websocket.send",
        "websocket.close",
    ]
    assert json.loads(sent[1]["text"]) == {"same": True, "min": 8}
