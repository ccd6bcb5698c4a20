"""`python -m bench.serve {ours|ours_no_access_log|floor|bare|hashing} PORT`: one uvicorn worker serving one app.

Both apps get the same uvicorn options as `python -m app` (uvloop and httptools when
installed, no server header, no proxy headers, logging left to the app).
"""

from __future__ import annotations

import sys

import uvicorn

from bench.apps import bare_app, ours_app, ours_app_without_access_log
from bench.floor import floor_app
from bench.hashing import add_hash_routes

UVICORN_OPTIONS = {
    "loop": "auto",
    "http": "auto",
    "proxy_headers": False,
    "server_header": False,
    "log_config": None,
    "access_log": False,
}


def main(argv: list[str]) -> None:
    kind, port = argv[0], int(argv[1])
    builders = {
        "bare": bare_app,
        "ours": ours_app,
        "ours_no_access_log": ours_app_without_access_log,
        "floor": floor_app,
        "hashing": lambda: add_hash_routes(ours_app()),
    }
    application = builders[kind]()
    uvicorn.run(application, host="127.0.0.1", port=port, **UVICORN_OPTIONS)  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1:])
