"""Centralized exception handling: one error root, RFC 9457 bodies for everything.

    AppHTTPException (any status; title "Application Error")
    ├── BadRequestError          400
    ├── AuthenticationError      401  adds WWW-Authenticate: Bearer
    ├── PermissionDeniedError    403
    ├── NotFoundError            404
    ├── ConflictError            409
    ├── PayloadTooLargeError     413
    ├── RateLimitedError         429
    └── ServiceUnavailableError  503

Domain code raises these; `register_exception_handlers` turns them (and Starlette's
HTTP errors, validation errors and anything unhandled) into problem+json responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, ClassVar

from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.response import ResponseFactory


class AppHTTPException(StarletteHTTPException):
    """An HTTP error carrying the extra RFC 9457 fields of our error envelope."""

    default_status: ClassVar[int] = 500
    default_title: ClassVar[str] = "Application Error"
    default_headers: ClassVar[Mapping[str, str] | None] = None

    def __init__(
        self,
        status_code: int | None = None,
        detail: str | None = None,
        *,
        title: str | None = None,
        errors: Sequence[Any] | dict[str, Any] | None = None,
        meta_extensions: dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        status = status_code if status_code is not None else self.default_status
        merged_headers = {**(self.default_headers or {}), **(headers or {})} or None
        super().__init__(
            status_code=status,
            detail=detail or _reason(status),
            headers=merged_headers,
        )
        self.title = title or self.default_title
        self.errors = errors
        self.meta_extensions = meta_extensions


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class BadRequestError(AppHTTPException):
    default_status = 400
    default_title = "Bad Request"


class AuthenticationError(AppHTTPException):
    default_status = 401
    default_title = "Unauthorized"
    default_headers = MappingProxyType({"WWW-Authenticate": "Bearer"})


class PermissionDeniedError(AppHTTPException):
    default_status = 403
    default_title = "Forbidden"


class NotFoundError(AppHTTPException):
    default_status = 404
    default_title = "Not Found"


class ConflictError(AppHTTPException):
    default_status = 409
    default_title = "Conflict"


class PayloadTooLargeError(AppHTTPException):
    default_status = 413
    default_title = "Payload Too Large"


class RateLimitedError(AppHTTPException):
    default_status = 429
    default_title = "Too Many Requests"


class ServiceUnavailableError(AppHTTPException):
    default_status = 503
    default_title = "Service Unavailable"


async def _http_exception_handler(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StarletteHTTPException):  # registered for this type only
        raise exc
    app_exc = (
        exc
        if isinstance(exc, AppHTTPException)
        else AppHTTPException(exc.status_code, exc.detail, headers=exc.headers)
    )
    return ResponseFactory(request).error(
        app_exc.status_code,
        app_exc.title,
        app_exc.detail,
        errors=app_exc.errors,
        headers=dict(app_exc.headers or {}),
        meta_extensions=app_exc.meta_extensions,
    )


def register_exception_handlers(app: FastAPI) -> None:
    """Register the HTTP, validation and catch-all handlers (HTTP-contract issue)."""
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
