"""How each app runs as a server process, and `PORT=... python -m bench.apps.serve {ours|bare}`.

`SERVICE` is ours as it is deployed, `python -m app` itself: it prepares its database,
then serves `app.main:create_app` with its own uvicorn options (the load runs and the
hashing rows use it). `worker(kind)` is one uvicorn worker of one app with those same
options (uvloop and httptools when installed, no server header, no proxy headers,
logging left to the app, no uvicorn access log): `ours` is `app.main:create_app`, built
by uvicorn from the environment's settings as each worker of `python -m app` builds it,
on a database already prepared; `bare` is the plain equivalent (bench/apps/bare.py).
The plain app is served as `worker("bare")` everywhere; time to ready compares
`worker("ours")` with it. Every process finds its port in PORT.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Literal

import uvicorn

SERVICE = [sys.executable, "-m", "app"]
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "auto",
    "http": "auto",
    "proxy_headers": False,
    "server_header": False,
    "log_config": None,
    "access_log": False,
}
Kind = Literal["ours", "bare"]


def worker(kind: Kind) -> list[str]:
    """The command of one uvicorn worker serving `kind`."""
    return [sys.executable, "-m", "bench.apps.serve", kind]


def main(argv: list[str]) -> None:
    port = int(os.environ["PORT"])
    if argv[0] == "ours":  # imported, and built, by uvicorn (factory=True)
        uvicorn.run(
            "app.main:create_app", host="127.0.0.1", port=port, factory=True, **UVICORN_OPTIONS
        )
        return
    if argv[0] != "bare":
        raise SystemExit(f"unknown app {argv[0]!r}: ours or bare")
    from bench.apps.bare import BareConfig, create_bare_app  # not imported for ours

    uvicorn.run(
        create_bare_app(BareConfig.from_env()), host="127.0.0.1", port=port, **UVICORN_OPTIONS
    )


if __name__ == "__main__":
    main(sys.argv[1:])
