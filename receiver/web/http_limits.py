"""Limits on what one HTTP request may make the server hold before the app sees it.

uvicorn's httptools protocol accepts any number of request headers of any size, and waits
forever for a request's head to finish arriving (its keep-alive timeout covers only idle
time between requests): one client could make it parse megabytes of headers, or hold a
connection open by trickling a byte at a time. This protocol refuses a head with more than
``max_headers`` headers or more than ``max_head_bytes`` bytes (URL and headers) with
``431``, and closes a connection whose request head has not arrived whole within
``head_timeout`` seconds. The body is the app's business (``RECEIVER_MAX_BODY_BYTES``,
``RECEIVER_REQUEST_TIMEOUT``).

The protocol itself subclasses uvicorn's internals, so it lives behind the private-API fence
(:func:`receiver.compat.uvicorn_internals.limited_protocol`, re-exported here).
"""

from __future__ import annotations

from receiver.compat.uvicorn_internals import limited_protocol

__all__ = ["HeadLimits", "limited_protocol"]


class HeadLimits:
    def __init__(self, *, max_headers: int, max_head_bytes: int, head_timeout: float) -> None:
        self.max_headers = max_headers
        self.max_head_bytes = max_head_bytes
        self.head_timeout = head_timeout
