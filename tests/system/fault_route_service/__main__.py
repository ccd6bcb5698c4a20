"""`python -m tests.system.fault_route_service`: `python -m app`, serving fault_route_app.

Runs the product's own entry point (settings check, database bootstrap, the multiprocess
metrics directory for WORKERS>1, signal handling) and only changes the factory each
worker builds its app with, from `app.main.create_app` to the test app's.
It is a package's `__main__`, as `app` is: multiprocessing's spawned workers re-import a
plain main module (and here did not start in time) but never a `*.__main__` one.
"""

from __future__ import annotations

import sys

from app.__main__ import main
from tests.system.fault_route_app import create_app

if __name__ == "__main__":
    sys.exit(main(create_app))
