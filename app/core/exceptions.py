"""Centralized exception handling: one error root, RFC 9457 bodies for everything.

    AppHTTPException (any status; title "Application Error")
    ├── BadRequestError          400
    ├── AuthenticationError      401  adds WWW-Authenticate: Bearer
    ├── PermissionDeniedError    403
    ├── NotFoundError            404
    ├── ConflictError            409
    ├── PayloadTooLargeError     413
    ├── RateLimitedError         429
    └── ServiceUnavailableError  503  adds Retry-After

Domain code raises these; `register_exception_handlers` turns them (and Starlette's
HTTP errors, validation errors and anything unhandled) into problem+json responses.
Those handlers are also what the error-boundary middleware calls for exceptions that
escape the app before a response started (`app.core.http.error_boundary`), so an
unhandled error still leaves through the request-ID, security-header and CORS layers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.http.openapi import document_problem_responses
from app.core.http.validation import is_undecoded_body, sanitize_errors
from app.core.logger import get_logger, request_id_ctx
from app.core.response import ResponseFactory, reason_phrase

logger = get_logger("app.core.exceptions")


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
            detail=detail or reason_phrase(status),
            headers=merged_headers,
        )
        self.title = title or self.default_title
        self.errors = errors
        self.meta_extensions = meta_extensions


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


RETRY_AFTER_SECONDS = 5


class ServiceUnavailableError(AppHTTPException):
    """A dependency is down or the process is draining: worth retrying soon."""

    default_status = 503
    default_title = "Service Unavailable"
    default_headers = MappingProxyType({"Retry-After": str(RETRY_AFTER_SECONDS)})


async def http_exception_handler(request: Request, exc: Exception) -> Response:
    """Any Starlette/FastAPI HTTPException (routing 404/405 included) as problem+json."""
    if not isinstance(exc, StarletteHTTPException):  # registered for this type only
        raise exc
    app_exc = (
        exc
        if isinstance(exc, AppHTTPException)
        else AppHTTPException(
            exc.status_code, exc.detail, title=reason_phrase(exc.status_code), headers=exc.headers
        )
    )
    headers = dict(app_exc.headers) if app_exc.headers else None
    if not is_body_allowed_for_status_code(app_exc.status_code):
        return Response(status_code=app_exc.status_code, headers=headers)
    return ResponseFactory(request).error(
        app_exc.status_code,
        app_exc.title,
        app_exc.detail,
        errors=app_exc.errors,
        headers=headers,
        meta_extensions=app_exc.meta_extensions,
    )


async def validation_exception_handler(request: Request, exc: Exception) -> Response:
    """422 with the sanitised pydantic errors (see `app.core.http.validation`).

    415 instead when a JSON body arrived under another media type (text/plain, a form):
    FastAPI then validates the undecoded bytes, and "Input should be a valid
    dictionary" would not tell the client what to change.
    """
    if not isinstance(exc, RequestValidationError):  # registered for this type only
        raise exc
    errors = exc.errors()
    if any(is_undecoded_body(error) for error in errors):
        return ResponseFactory(request).error(
            415,
            "Unsupported Media Type",
            "Send the body as application/json.",
        )
    return ResponseFactory(request).error(
        422,
        "Unprocessable Content",
        "The request did not pass validation; see errors.",
        errors=sanitize_errors(errors),
    )


async def unhandled_exception_handler(request: Request, exc: Exception) -> Response:
    """500 for anything unhandled: the traceback goes to the log, never to the client."""
    request_id = request.scope.get("state", {}).get("request_id")
    # Starlette calls this outside the request-ID middleware: restore the log context.
    token = request_id_ctx.set(request_id) if request_id_ctx.get() is None else None
    try:
        logger.error(
            "unhandled_exception",
            exc_info=exc,
            extra={
                "exception_type": type(exc).__name__,
                "method": request.scope.get("method"),
                "path": request.scope.get("path"),
            },
        )
    finally:
        if token is not None:
            request_id_ctx.reset(token)
    return ResponseFactory(request).error(
        500,
        "Internal Server Error",
        "The server failed to handle the request; quote meta.request_id when reporting it.",
    )


def register_exception_handlers(app: FastAPI) -> None:
    """Register the HTTP, validation and catch-all handlers, and document their bodies.

    Every operation of the app's OpenAPI document then lists its error responses as
    problem+json (see `app.core.http.openapi`).
    """
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(Exception, unhandled_exception_handler)
    document_problem_responses(app)
