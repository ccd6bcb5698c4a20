"""Centralized exception handling: RFC 9457 problem+json bodies for every error.

The error classes live in `app.core.errors` (re-exported here). `register_exception_handlers`
turns them, Starlette's HTTP errors, validation errors (`app.core.validation_errors`) and
anything unhandled into problem+json responses, and documents those bodies in the OpenAPI
document (`app.core.openapi`). The handlers are also what the error-boundary middleware
calls for exceptions that escape the app before a response started
(`app.core.middleware.error_boundary`), so an unhandled error still leaves through the
request-ID, security-header and CORS layers.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import (
    AppHTTPException,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
    reason_phrase,
)
from app.core.logger import get_logger, request_id_ctx
from app.core.openapi import document_problem_responses
from app.core.response import ResponseFactory
from app.core.validation_errors import is_undecoded_body, sanitize_errors

__all__ = [
    "AppHTTPException",
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ServiceUnavailableError",
    "http_exception_handler",
    "register_exception_handlers",
    "unhandled_exception_handler",
    "validation_exception_handler",
]

logger = get_logger("app.core.exceptions")


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
    """422 with the sanitised pydantic errors (see `app.core.validation_errors`).

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
    problem+json (see `app.core.openapi`).
    """
    app.add_exception_handler(StarletteHTTPException, http_exception_handler)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(Exception, unhandled_exception_handler)
    document_problem_responses(app)
