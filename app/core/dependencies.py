"""FastAPI `Depends` wrappers and `Annotated` aliases for the core services.

Services live on `app.state` (created by `create_app`/lifespan); these providers hand
them to endpoints so tests can build an app from their own Settings. Every provider is
`async def` although none awaits: FastAPI runs a plain `def` dependency in the thread
pool, a thread hop per provider per request (tests/test_route_dependencies.py).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from app.core.config import Settings
from app.core.http.client_ip import TrustedProxies
from app.core.http.device import DeviceInfoExtractor
from app.core.http.schemas import SessionDeviceInfo
from app.core.response import ResponseFactory, get_response_factory
from app.core.security import JWTService, PasswordSecurity


async def get_app_settings(connection: HTTPConnection) -> Settings:
    """The Settings this app was created with (HTTP requests and WebSockets alike)."""
    settings: Settings = connection.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ResponseFactoryDep = Annotated[ResponseFactory, Depends(get_response_factory)]


async def get_password_security(connection: HTTPConnection) -> PasswordSecurity:
    """The app's Argon2id hasher (HTTP requests and WebSockets alike)."""
    password_security: PasswordSecurity = connection.app.state.password_security
    return password_security


async def get_jwt_service(connection: HTTPConnection) -> JWTService:
    """The app's JWT service (HTTP requests and WebSockets alike)."""
    jwt_service: JWTService = connection.app.state.jwt_service
    return jwt_service


PasswordSecurityDep = Annotated[PasswordSecurity, Depends(get_password_security)]
JWTServiceDep = Annotated[JWTService, Depends(get_jwt_service)]


async def get_device_info(connection: HTTPConnection) -> SessionDeviceInfo:
    """The client's device info, as the device-info middleware stored it on the request.

    Computed here only for an app built without that middleware.
    """
    device_info: SessionDeviceInfo | None = connection.scope.get("state", {}).get("device_info")
    if device_info is None:
        settings: Settings = connection.app.state.settings
        proxies = TrustedProxies(settings.TRUSTED_PROXIES, header=settings.TRUSTED_PROXY_HEADER)
        device_info = DeviceInfoExtractor(proxies)(connection.scope)
    return device_info


DeviceInfoDep = Annotated[SessionDeviceInfo, Depends(get_device_info)]
