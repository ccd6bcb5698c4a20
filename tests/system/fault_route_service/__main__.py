"""`python -m tests.system.fault_route_service`: `python -m app`, serving fault_route_app.

Runs the product's own entry point (settings check, database bootstrap, the multiprocess
metrics directory for WORKERS>1, signal handling) and only changes the app uvicorn
imports in each worker, from `app.main:app` to `tests.system.fault_route_app:app`.
It is a package's `__main__`, as `app` is: multiprocessing's spawned workers re-import a
plain main module (and here did not start in time) but never a `*.__main__` one.
"""

from __future__ import annotations

import sys
from typing import Any

import uvicorn

from app.__main__ import main

PRODUCT_APP = "app.main:app"
TEST_APP = "tests.system.fault_route_app:app"


def serve_test_app() -> int:
    """`app.__main__.main()` with uvicorn told to import the test app in its workers."""
    run = uvicorn.run

    def run_test_app(target: Any, **options: Any) -> None:
        if target != PRODUCT_APP:
            raise RuntimeError(f"python -m app now serves {target!r}; update {__name__}")
        run(TEST_APP, **options)

    uvicorn.run = run_test_app
    return main()


if __name__ == "__main__":
    sys.exit(serve_test_app())
