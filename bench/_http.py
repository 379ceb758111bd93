"""Just enough HTTP/1.1 for the load generator: keep-alive connections and a pool of them.

The machine the benchmark runs on may have two cores: one for the server under test, one for
the load generator. At 1,000 requests/s the generator has 1 ms of CPU per request, and a
general-purpose client such as httpx spends a large share of that on its own bookkeeping, so
at saturation it, not the server, would set the pace. This client does the least a callback
sender must: write a pre-encoded request, read the status line and headers, read a
``Content-Length`` body (what uvicorn sends for a ``JSONResponse``), one request at a time
per connection, no pipelining.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["Connection", "Pool", "ProtocolError", "encode_post"]

#: uvicorn closes a keep-alive connection after 5 s idle (``timeout_keep_alive``); a
#: connection idle for longer than this is not reused, so that race never shows as an error.
IDLE_LIMIT = 3.0
_HEAD_END = b"\r\n\r\n"


class ProtocolError(Exception):
    """The server answered something this minimal client does not speak."""


def encode_post(host: str, port: int, path: str, body: bytes) -> bytes:
    """The bytes of a JSON POST, encoded once up front so sending costs no CPU to build."""
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "User-Agent: receiver-bench\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "\r\n"
    )
    return head.encode("ascii") + body


class Connection:
    """One keep-alive connection; :meth:`exchange` sends a request and reads its response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.reusable = True
        self.idle_since = time.monotonic()

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        # asyncio sets TCP_NODELAY on its stream sockets, so small requests leave at once.
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    @property
    def stale(self) -> bool:
        """Closed by the server, or idle for so long that the server may close it any moment."""
        return self._reader.at_eof() or time.monotonic() - self.idle_since > IDLE_LIMIT

    async def exchange(self, request: bytes) -> int:
        """Send ``request``; the response's status code once its body is read."""
        self._writer.write(request)
        head = await self._reader.readuntil(_HEAD_END)
        status, length, close = _parse_head(head)
        if length:
            await self._reader.readexactly(length)
        self.reusable = not close
        return status

    def close(self) -> None:
        self.reusable = False
        self._writer.close()


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    """Status code, body length and whether the server closes the connection."""
    lines = head[: -len(_HEAD_END)].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0]!r}")
    length, close = 0, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"transfer-encoding":
            raise ProtocolError("chunked responses are not supported by the bench client")
    return int(parts[1]), length, close


class Pool:
    """At most ``limit`` connections to one server; a request waits when all are busy.

    Idle connections are reused last-in first-out, so the hot ones stay warm and the rest
    age out (see :data:`IDLE_LIMIT`). Waiting for a connection happens inside the caller's
    timed region: under an open-loop load that wait is part of the latency the server causes.
    """

    def __init__(self, host: str, port: int, *, limit: int) -> None:
        self._host = host
        self._port = port
        self._slots = asyncio.Semaphore(limit)
        self._idle: list[Connection] = []
        self.opened = 0

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        async with self._slots:
            conn = self._take_idle()
            if conn is None:
                conn = await Connection.open(self._host, self._port)
                self.opened += 1
            try:
                yield conn
            except BaseException:
                # Cancelled or failed mid-exchange: the stream is in an unknown state.
                conn.close()
                raise
            if conn.reusable:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            else:
                conn.close()

    def _take_idle(self) -> Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.stale:
                return conn
            conn.close()
        return None

    def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()
