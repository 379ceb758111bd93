"""Limits on what one HTTP request may make the server hold before the app sees it.

uvicorn's httptools protocol accepts any number of request headers of any size, and waits
forever for a request's head to finish arriving (its keep-alive timeout covers only idle
time between requests): one client could make it parse megabytes of headers, or hold a
connection open by trickling a byte at a time. This protocol refuses a head with more than
``max_headers`` headers or more than ``max_head_bytes`` bytes (URL and headers) with
``431``, and closes a connection whose request head has not arrived whole within
``head_timeout`` seconds. The body is the app's business (``RECEIVER_MAX_BODY_BYTES``,
``RECEIVER_REQUEST_TIMEOUT``).
"""

from __future__ import annotations

import asyncio

import structlog
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["HeadLimits", "limited_protocol"]

log = structlog.get_logger(__name__)


class HeadLimits:
    def __init__(self, *, max_headers: int, max_head_bytes: int, head_timeout: float) -> None:
        self.max_headers = max_headers
        self.max_head_bytes = max_head_bytes
        self.head_timeout = head_timeout


#: How often overdue request heads are looked for: a head may take up to this much longer
#: than its timeout before it is cut off.
_SWEEP_SECONDS = 1.0


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
                self.loop.call_later(_SWEEP_SECONDS, self._sweep)

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
            log.warning("http.head_refused", reason=why, client=self.client and self.client[0])
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
                self.loop.call_later(_SWEEP_SECONDS, self._sweep)
            else:
                type(self)._sweeping = False

        def _head_too_slow(self) -> None:
            self._head_since = None
            if not self.transport.is_closing():
                log.warning("http.head_timeout", client=self.client and self.client[0])
                self.transport.close()

    return LimitedHttpToolsProtocol
