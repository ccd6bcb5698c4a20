"""Cross-cutting infrastructure: configuration, logging, security, responses, middleware."""

from app.core.background_tasks import global_background_tasks
from app.core.config import Settings, get_settings
from app.core.exceptions import AppHTTPException, register_exception_handlers
from app.core.logger import get_logger, stop_logger
from app.core.middleware import add_middlewares
from app.core.response import ResponseFactory, get_response_factory

__all__ = [
    "AppHTTPException",
    "ResponseFactory",
    "Settings",
    "add_middlewares",
    "get_logger",
    "get_response_factory",
    "get_settings",
    "global_background_tasks",
    "register_exception_handlers",
    "stop_logger",
]
