"""The service's own app with one more route that raises, for the end-to-end Prometheus test.

Test-only: the product has no route that fails on purpose, and the test needs a 500 in
the real process to see app_requests_total{status="500"} and app_errors_total through
Prometheus. The route is added to the app `app.main.create_app` builds, so everything
else (middleware, error boundary, lifespan) is exactly what `python -m app` serves.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from app.main import create_app as create_product_app

FAILING_PATH = "/test/unhandled-error"


class DeliberateFailureError(RuntimeError):
    """Raised by the failing route: shows as exception_type in app_errors_total."""


async def fail() -> None:
    raise DeliberateFailureError("the end-to-end test asked for an unhandled exception")


def create_app(*args: Any, **kwargs: Any) -> FastAPI:
    """`app.main.create_app(...)` plus the failing route."""
    app = create_product_app(*args, **kwargs)
    app.add_api_route(FAILING_PATH, fail, methods=["GET"], include_in_schema=False)
    return app
