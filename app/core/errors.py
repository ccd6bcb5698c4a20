"""The error classes: one root, the status on the class. Imports nothing of ours.

    AppHTTPException (any status; title "Application Error")
    ├── AuthenticationError      401  adds WWW-Authenticate: Bearer
    ├── PermissionDeniedError    403
    ├── NotFoundError            404
    ├── ConflictError            409
    ├── PayloadTooLargeError     413
    ├── RateLimitedError         429
    └── ServiceUnavailableError  503  adds Retry-After

Domain code raises these; `app.core.exceptions` turns them into problem+json responses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, ClassVar

from starlette.exceptions import HTTPException as StarletteHTTPException

# Where the error boundary leaves an exception it turned into a 500 (`scope["state"]`), for
# the outer middleware that count errors.
UNHANDLED_EXCEPTION_STATE_KEY = "unhandled_exception"


def reason_phrase(status: int) -> str:
    """The standard reason phrase of a status ("Not Found"), or "Error" for unknown codes."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


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
