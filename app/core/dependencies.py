"""FastAPI `Depends` wrappers and `Annotated` aliases for the core services.

Services live on `app.state` (created by `create_app`/lifespan); these providers hand
them to endpoints so tests can build an app from their own Settings.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.config import Settings
from app.core.response import ResponseFactory, get_response_factory


def get_app_settings(request: Request) -> Settings:
    """The Settings this app was created with."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ResponseFactoryDep = Annotated[ResponseFactory, Depends(get_response_factory)]
