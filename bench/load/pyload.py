"""`python -m bench.load.pyload SPEC.json`: the asyncio load client (uvloop when installed).

Keep-alive HTTP/1.1 on raw asyncio streams, one request in flight per connection like
wrk. Unlike wrk it stops sending at the deadline and waits for every request it sent,
so the requests it counts are all the server served: the server's CPU time divided by
them is exact even when a request takes tens of milliseconds (a login).

With `refresh_tokens` in the spec it drives refresh-token rotation: the tokens are
shared out among the connections, each request presents one of its connection's tokens
and the token in the answer replaces it; a refused token is dropped. The tokens current
at the end are printed with the figures, for the next run to go on from.

Prints one JSON line: requests, duration_us, failures, p50_us, p99_us (and
refresh_tokens), the same figures as bench/load/generator.py's wrk script.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class _Client:
    """One keep-alive connection's request template and response reading."""

    def __init__(self, spec: dict[str, Any]) -> None:
        parts = urlsplit(spec["url"])
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        headers = {
            "Host": f"{self.host}:{self.port}",
            "User-Agent": "bench-pyload",
            "Accept": "*/*",
            **spec.get("headers", {}),
        }
        self.head = f"{spec.get('method', 'GET')} {parts.path or '/'} HTTP/1.1\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )

    def request(self, body: bytes | None) -> bytes:
        if body is None:
            return (self.head + "\r\n").encode()
        return (self.head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    @staticmethod
    async def response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await reader.readexactly(length)


async def _connection(
    client: _Client,
    body: bytes | None,
    tokens: list[str] | None,
    deadline: float,
    latencies: list[float],
) -> int:
    """Send requests until the deadline; the statuses of those that failed."""
    failed: list[int] = []
    turn = 0
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        while time.perf_counter() < deadline and (tokens is None or tokens):
            if tokens is not None:
                turn %= len(tokens)
                body = json.dumps({"refresh_token": tokens[turn]}).encode()
            started = time.perf_counter()
            writer.write(client.request(body))
            status, content = await client.response(reader)
            latencies.append(time.perf_counter() - started)
            if status >= 400:
                failed.append(status)
            if tokens is not None:
                if status == 200:
                    tokens[turn] = json.loads(content)["data"]["refresh_token"]
                    turn += 1
                else:
                    del tokens[turn]
    finally:
        writer.close()
    return failed


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Load `spec["url"]` for `spec["seconds"]`; the figures (and the tokens left)."""
    client = _Client(spec)
    connections: int = spec["connections"]
    body = spec["body"].encode() if spec.get("body") is not None else None
    chained: list[str] | None = spec.get("refresh_tokens")
    shares = (
        [chained[number::connections] for number in range(connections)]
        if chained is not None
        else [None] * connections
    )
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + spec["seconds"]
    failed = await asyncio.gather(
        *(_connection(client, body, share, deadline, latencies) for share in shares)
    )
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    figures: dict[str, Any] = {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "failures": sum(len(statuses) for statuses in failed),
        "failed_statuses": dict(Counter(str(status) for statuses in failed for status in statuses)),
        "p50_us": cuts[49] * 1e6,
        "p99_us": cuts[98] * 1e6,
    }
    if chained is not None:
        figures["refresh_tokens"] = [token for share in shares if share for token in share]
    return figures


def main(argv: list[str]) -> None:
    coroutine = run(json.loads(Path(argv[0]).read_text()))
    try:
        import uvloop
    except ImportError:
        print(json.dumps(asyncio.run(coroutine)))
    else:
        print(json.dumps(uvloop.run(coroutine)))


if __name__ == "__main__":
    main(sys.argv[1:])
