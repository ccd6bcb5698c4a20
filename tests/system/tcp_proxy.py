"""A TCP proxy the fault tests put in front of the real PostgreSQL or Redis and cut.

The shared servers keep running for every other test; only the path through the proxy
fails. Two kinds of failure:

- `cut()`: the server died. Open connections are reset, new ones are reset on accept.
- `blackhole()`: the network hangs. Bytes are swallowed, nothing answers, nothing closes.
- `cut_on(marker)`: the server dies at a chosen step: the first client chunk holding
  `marker` (say b"COMMIT") is dropped and everything is cut, as `cut()` does.

`restore()` forwards again (connections that lived through a blackhole are reset, since
their protocol state is lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum


class Mode(enum.Enum):
    FORWARD = "forward"
    CUT = "cut"
    BLACKHOLE = "blackhole"


class TcpProxy:
    """Listens on 127.0.0.1:<free port> and forwards to `upstream_host:upstream_port`."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.mode = Mode.FORWARD
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._cut_marker: bytes | None = None

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self._reset_all()
        if self._tasks:
            # Reset connections end their pipes; anything still stuck is cancelled.
            _, stuck = await asyncio.wait(self._tasks, timeout=2.0)
            for task in stuck:
                task.cancel()
            await asyncio.gather(*stuck, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def cut(self) -> None:
        """Reset every connection and every new one, as a stopped server would."""
        self.mode = Mode.CUT
        self._reset_all()

    def cut_on(self, marker: bytes) -> None:
        """Forward until a client sends a chunk containing `marker`, then `cut()` instead."""
        self._cut_marker = marker

    def blackhole(self) -> None:
        """Swallow traffic without answering or closing, as a hung network would."""
        self.mode = Mode.BLACKHOLE

    def restore(self) -> None:
        if self.mode is Mode.BLACKHOLE:
            self._reset_all()
        self.mode = Mode.FORWARD
        self._cut_marker = None

    def _reset_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # Only close() cancels; asyncio's start_server callback would log it as an error.
            writer.transport.abort()
        finally:
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.mode is Mode.CUT:
            writer.transport.abort()
            return
        self._writers.add(writer)
        if self.mode is Mode.BLACKHOLE:
            await self._pipe(reader, None)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer, watch=True), self._pipe(up_reader, writer)
        )

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter | None,
        *,
        watch: bool = False,
    ) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while chunk := await reader.read(65536):
                if watch and self._cut_marker is not None and self._cut_marker in chunk:
                    self._cut_marker = None
                    self.cut()
                    return
                if self.mode is Mode.BLACKHOLE or writer is None:
                    continue
                writer.write(chunk)
                await writer.drain()
        if writer is not None and self.mode is Mode.FORWARD:
            with contextlib.suppress(OSError):
                writer.close()
