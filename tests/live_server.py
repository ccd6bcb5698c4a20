"""Serve an ASGI app with uvicorn on a free local port, inside the test's event loop.

For what only a real server shows: chunks arriving on the wire, WebSocket frames and
close codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@asynccontextmanager
async def serving(app: ASGIApp, **config: Any) -> AsyncIterator[str]:
    """`async with serving(app) as address:` yields `127.0.0.1:<port>` while uvicorn serves.

    `config` overrides uvicorn.Config options (e.g. `lifespan="off"` for an app whose
    lifespan already runs).
    """
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": 0,
        "ws": "websockets-sansio",
        "log_config": None,
        "access_log": False,
        **config,
    }
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
