"""`python -m bench.serve {ours|bare} PORT`: one uvicorn worker serving one of the two apps.

Both apps get the same uvicorn options as `python -m app` (uvloop and httptools when
installed, no server header, no proxy headers, logging left to the app).
"""

from __future__ import annotations

import sys

import uvicorn

from bench.apps import bare_app, ours_app

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
    application = ours_app() if kind == "ours" else bare_app()
    uvicorn.run(application, host="127.0.0.1", port=port, **UVICORN_OPTIONS)  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1:])
