"""DeviceInfoDep: the middleware's device info, or computed for an app without it."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from app.core.config import Settings
from app.core.dependencies import DeviceInfoDep

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
