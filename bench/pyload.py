"""`python -m bench.pyload URL SECONDS CONNECTIONS`: the fallback load generator.

Keep-alive HTTP/1.1 GETs on raw asyncio streams (uvloop when installed), one request in
flight per connection like wrk. Prints the same JSON line as bench/load.py's wrk script.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from urllib.parse import urlsplit


async def _connection(
    host: str, port: int, request: bytes, deadline: float, latencies: list[float]
) -> int:
    failures = 0
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            failures += status >= 400
    finally:
        writer.close()
    return failures


async def _main(url: str, seconds: float, connections: int) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = (
        f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        "User-Agent: bench-pyload\r\nAccept: */*\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    failures = await asyncio.gather(
        *(_connection(host, port, request, deadline, latencies) for _ in range(connections))
    )
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "failures": sum(failures),
        "p50_us": cuts[49] * 1e6,
        "p99_us": cuts[98] * 1e6,
    }


def main(argv: list[str]) -> None:
    coroutine = _main(argv[0], float(argv[1]), int(argv[2]))
    try:
        import uvloop
    except ImportError:
        print(json.dumps(asyncio.run(coroutine)))
    else:
        print(json.dumps(uvloop.run(coroutine)))


if __name__ == "__main__":
    main(sys.argv[1:])
