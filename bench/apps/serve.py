"""`PORT=... python -m bench.serve {bare|ours|hashing}`: one uvicorn worker serving one app.

`bare` is the plain equivalent of our endpoints (bench/bare.py); `ours` is a worker of
the service as `python -m app` starts one, `app.main:create_app` with settings from the
environment, on a database already prepared (bench/startup.py times these two);
`hashing` is our service with two password-verify routes (bench/hashing.py). All get
the options `python -m app` gives uvicorn (uvloop and httptools when installed, no
server header, no proxy headers, logging left to the app, no uvicorn access log). The
load runs serve ours with `python -m app` itself.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import uvicorn

UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "auto",
    "http": "auto",
    "proxy_headers": False,
    "server_header": False,
    "log_config": None,
    "access_log": False,
}


def _application(kind: str) -> Any:
    if kind == "ours":
        return "app.main:create_app"  # imported, and built, by uvicorn (factory=True)
    if kind == "bare":
        from bench.bare import BareConfig, create_bare_app

        return create_bare_app(BareConfig.from_env())
    from bench.apps import ours_app
    from bench.hashing import add_hash_routes

    return add_hash_routes(ours_app())


def main(argv: list[str]) -> None:
    application = _application(argv[0])
    uvicorn.run(
        application,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        factory=application == "app.main:create_app",
        **UVICORN_OPTIONS,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
