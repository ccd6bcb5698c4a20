"""The floor: the least code that does our stack's visible work for each request.

A bare FastAPI app (same endpoint) behind six pure ASGI layers that each do the minimum
their counterpart in `app.core` must do on a plain GET: CORS appends `Vary: Origin`;
metrics count the request and observe its latency in prometheus_client; the request ID
comes from a pool of UUID4s, goes to the state and the response header, and one JSON
access line per request (orjson, no redaction, a float timestamp) is queued for a thread
that writes batches to a file and stderr; device info stores the client address; the
security headers are one static list; the rate limiter only lets the request through.
No settings, validation, redaction, logging hierarchy or error handling.

It is not a product: it shows how close to bare FastAPI any implementation of these
jobs can get with FastAPI, uvicorn and CPython on the machine at hand, so that the gap
between it and our stack is what our own code costs.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bench.apps import bare_app

SECURITY_HEADERS = [
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
VARY_ORIGIN = (b"vary", b"Origin")
LINGER_SECONDS = 0.02


class _Lines:
    """A queue of ready lines and the thread that writes them out in batches."""

    def __init__(self, path: Path) -> None:
        self.queue: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.path = path
        threading.Thread(target=self._write, daemon=True).start()

    def _write(self) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            while True:
                batch = [self.queue.get()]
                try:
                    while True:
                        batch.append(self.queue.get_nowait())
                except queue.Empty:
                    pass
                text = "".join(batch)
                file.write(text)
                file.flush()
                sys.stderr.write(text)
                sys.stderr.flush()
                time.sleep(LINGER_SECONDS)


def _request_ids() -> Iterator[str]:
    while True:
        yield from [str(uuid.UUID(bytes=os.urandom(16), version=4)) for _ in range(256)]


def _cors(app: ASGIApp) -> ASGIApp:
    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], VARY_ORIGIN]
            await send(message)

        await app(scope, receive, send_with_vary)

    return layer


def _metrics(app: ASGIApp, requests: Counter, latency: Histogram) -> ASGIApp:
    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        started, status = time.perf_counter(), 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_with_status)
        finally:
            route = scope["route"].path if "route" in scope else "<unmatched>"
            requests.labels(scope["method"], route, str(status)).inc()
            latency.labels(scope["method"], route).observe(time.perf_counter() - started)

    return layer


def _request_id(app: ASGIApp, lines: _Lines) -> ASGIApp:
    ids = _request_ids()

    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        request_id = next(ids)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message["headers"], header]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            fields = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                "client_ip": scope["client"][0],
            }
            line = {"timestamp": time.time(), "message": "request", "level": "INFO"}
            line |= {"logger": "app.http.access", "request_id": request_id, "extra": fields}
            lines.queue.put(orjson.dumps(line).decode() + "\n")

    return layer


def _device_info(app: ASGIApp) -> ASGIApp:
    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["device_info"] = scope["client"][0]
        await app(scope, receive, send)

    return layer


def _security_headers(app: ASGIApp) -> ASGIApp:
    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], *SECURITY_HEADERS]
            await send(message)

        await app(scope, receive, send_with_headers)

    return layer


def _rate_limit(app: ASGIApp) -> ASGIApp:
    async def layer(scope: Scope, receive: Receive, send: Send) -> None:
        await app(scope, receive, send)  # the bench path is not a limited one

    return layer


class _MinimalStack:
    """The six layers for HTTP requests; lifespan and websockets go straight through."""

    def __init__(self, app: ASGIApp, *, log_dir: Path) -> None:
        registry = CollectorRegistry()
        requests = Counter(
            "requests_total", "", ["method", "endpoint", "status"], registry=registry
        )
        latency = Histogram("latency_seconds", "", ["method", "endpoint"], registry=registry)
        lines = _Lines(log_dir / "floor.json")
        stack = _rate_limit(app)
        stack = _security_headers(stack)
        stack = _device_info(stack)
        stack = _request_id(stack, lines)
        stack = _metrics(stack, requests, latency)
        self.stack = _cors(stack)
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.stack(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def floor_app(log_dir: Path | None = None) -> FastAPI:
    """Bare FastAPI behind the minimal layers; lines go to `log_dir` (default LOG_DIR)."""
    app = bare_app()
    app.add_middleware(_MinimalStack, log_dir=log_dir or Path(os.environ.get("LOG_DIR", ".")))
    return app
