"""The error classes: one root, the status and title on the class, headers merged."""

from __future__ import annotations

from types import MappingProxyType

import pytest
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


def test_app_http_exception_keeps_its_api() -> None:
    exc = AppHTTPException(409, "taken", errors=[{"field": "email"}], meta_extensions={"a": 1})
    assert (exc.status_code, exc.detail, exc.title) == (409, "taken", "Application Error")
    assert exc.errors == [{"field": "email"}]
    assert exc.meta_extensions == {"a": 1}
    assert NotFoundError().status_code == 404
    assert NotFoundError().detail == "Not Found"
    assert AuthenticationError(headers={"X-Extra": "1"}).headers == {
        "WWW-Authenticate": "Bearer",
        "X-Extra": "1",
    }
    assert RateLimitedError(headers={"Retry-After": "3"}).headers == {"Retry-After": "3"}
    assert PayloadTooLargeError().status_code == 413


# The tree in the module's docstring: (class, status, title).
TREE = [
    (AuthenticationError, 401, "Unauthorized"),
    (PermissionDeniedError, 403, "Forbidden"),
    (NotFoundError, 404, "Not Found"),
    (ConflictError, 409, "Conflict"),
    (PayloadTooLargeError, 413, "Payload Too Large"),
    (RateLimitedError, 429, "Too Many Requests"),
    (ServiceUnavailableError, 503, "Service Unavailable"),
]


@pytest.mark.parametrize(("error", "status", "title"), TREE)
def test_each_error_carries_its_status_and_title_and_is_an_http_exception(
    error: type[AppHTTPException], status: int, title: str
) -> None:
    raised = error()
    assert (raised.status_code, raised.title) == (status, title)
    assert isinstance(raised, StarletteHTTPException)  # FastAPI's handlers catch it


def test_the_root_defaults_to_500_and_takes_any_status() -> None:
    assert AppHTTPException().status_code == 500
    assert AppHTTPException().detail == "Internal Server Error"
    assert AppHTTPException(418, title="Teapot").detail == "I'm a Teapot"


def test_the_detail_defaults_to_the_reason_phrase_and_unknown_codes_read_error() -> None:
    assert reason_phrase(404) == "Not Found"
    assert reason_phrase(429) == "Too Many Requests"
    assert reason_phrase(599) == "Error"
    assert AppHTTPException(599).detail == "Error"
    assert ConflictError(detail="taken").detail == "taken"


def test_headers_given_override_the_class_defaults_without_changing_them() -> None:
    assert AuthenticationError(headers={"WWW-Authenticate": "Basic"}).headers == {
        "WWW-Authenticate": "Basic"
    }
    assert AuthenticationError().headers == {"WWW-Authenticate": "Bearer"}
    assert isinstance(AuthenticationError.default_headers, MappingProxyType)


def test_a_503_asks_to_retry_soon_and_other_errors_add_no_headers() -> None:
    assert ServiceUnavailableError().headers == {"Retry-After": "5"}
    assert NotFoundError().headers is None
    assert ConflictError(headers={"X-Trace": "1"}).headers == {"X-Trace": "1"}
