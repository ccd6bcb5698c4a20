"""`PORT=... python -m bench.serve {bare|hashing}`: one uvicorn worker serving one app.

`bare` is the plain equivalent of our endpoints (bench/bare.py); `hashing` is our
service with two password-verify routes (bench/hashing.py). Both get the options
`python -m app` gives uvicorn (uvloop and httptools when installed, no server header, no
proxy headers, logging left to the app, no uvicorn access log). Ours is served by
`python -m app` itself.
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
    if kind == "bare":
        from bench.bare import BareConfig, create_bare_app

        return create_bare_app(BareConfig.from_env())
    from bench.apps import ours_app
    from bench.hashing import add_hash_routes

    return add_hash_routes(ours_app())


def main(argv: list[str]) -> None:
    application = _application(argv[0])
    uvicorn.run(application, host="127.0.0.1", port=int(os.environ["PORT"]), **UVICORN_OPTIONS)


if __name__ == "__main__":
    main(sys.argv[1:])
