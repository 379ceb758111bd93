"""uvicorn's internals that receiver relies on (see :mod:`receiver.compat`).

uvicorn's public API runs a server; it offers no hook on a request's head as it is parsed,
nor on the signal that stops the server. Both are had by subclassing uvicorn's own classes
and overriding their undocumented methods, which this module alone does.
"""

from __future__ import annotations

import asyncio
import os
from types import FrameType
from typing import TYPE_CHECKING

import structlog
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from receiver.compat import Reach

if TYPE_CHECKING:
    from receiver.web.http_limits import HeadLimits

__all__ = ["REACHES", "ForcedExitServer", "limited_protocol"]

# The loggers of the modules these classes serve, as the lines were named before the fence.
_head_log = structlog.get_logger("receiver.web.http_limits")
_server_log = structlog.get_logger("receiver.web.server")

REACHES = (
    Reach(
        name="uvicorn.protocols.http.httptools_impl.HttpToolsProtocol",
        checked="uvicorn>=0.54.0,<0.55",
        why=(
            "limited_protocol subclasses it and overrides its parser callbacks "
            "(on_message_begin, on_url, on_header, on_headers_complete), connection_made and "
            "send_400_response, and reads its attributes headers, loop, connections, "
            "transport and client: the only place a request head can be bounded while it "
            "arrives (receiver.web.http_limits). An exception raised in a parser callback "
            "must end in send_400_response."
        ),
    ),
    Reach(
        name="uvicorn.Server.handle_exit",
        checked="uvicorn>=0.54.0,<0.55",
        why=(
            "ForcedExitServer overrides the signal handler and reads should_exit, so that a "
            "second SIGINT/SIGTERM exits at once (receiver.web.server)."
        ),
    ),
)

#: How often overdue request heads are looked for: a head may take up to this much longer
#: than its timeout before it is cut off.
SWEEP_SECONDS = 1.0


class _Refused(Exception):
    """Raised inside a parser callback: httptools turns it into a parser error."""


def limited_protocol(limits: HeadLimits) -> type[asyncio.Protocol]:
    """uvicorn's httptools protocol, with ``limits`` on every request's head."""

    class LimitedHttpToolsProtocol(HttpToolsProtocol):
        _head_bytes = 0
        #: When the head now arriving began (loop time); None between requests.
        _head_since: float | None = None
        _refusal: str | None = None
        #: One sweep a second over this server's connections closes heads that are too
        #: slow: cheaper than a timer per request (this runs for every callback).
        _sweeping = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._head_since = self.loop.time()
            cls = type(self)
            if not cls._sweeping:
                cls._sweeping = True
                self.loop.call_later(SWEEP_SECONDS, self._sweep)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = 0
            self._head_since = self.loop.time()

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)
            if len(self.headers) >= limits.max_headers:
                self._refuse(f"more than {limits.max_headers} request headers")
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._head_since = None
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            if self._refusal is None:
                super().send_400_response(msg)
                return
            body = self._refusal.encode()
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                b"content-type: text/plain; charset=utf-8\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()

        def _count(self, size: int) -> None:
            self._head_bytes += size
            if self._head_bytes > limits.max_head_bytes:
                self._refuse(f"the request head is over {limits.max_head_bytes} bytes")

        def _refuse(self, why: str) -> None:
            self._refusal = why
            _head_log.warning(
                "http.head_refused", reason=why, client=self.client and self.client[0]
            )
            raise _Refused(why)

        def _sweep(self) -> None:
            """Close every connection of this server whose request head is overdue."""
            now = self.loop.time()
            for conn in list(self.connections):
                if not isinstance(conn, type(self)):
                    continue  # upgraded to another protocol
                since = conn._head_since
                if since is not None and now - since > limits.head_timeout:
                    conn._head_too_slow()
            if self.connections:
                self.loop.call_later(SWEEP_SECONDS, self._sweep)
            else:
                type(self)._sweeping = False

        def _head_too_slow(self) -> None:
            self._head_since = None
            if not self.transport.is_closing():
                _head_log.warning("http.head_timeout", client=self.client and self.client[0])
                self.transport.close()

    return LimitedHttpToolsProtocol


class ForcedExitServer(uvicorn.Server):
    """uvicorn's server, where a second stop signal exits at once (status 1)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            _server_log.warning("server.forced_exit", signal=sig)
            os._exit(1)
        super().handle_exit(sig, frame)
