"""An access log that never writes a callback token down.

Callback URLs carry the token that authenticates them, so uvicorn's own access log (which
prints the path) is switched off and this middleware logs the route with the token masked.
"""

from __future__ import annotations

import logging
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from receiver.web.proxies import client_address

__all__ = ["AccessLogMiddleware", "redact_path"]

log = structlog.get_logger("receiver.access")

# ``/callbacks/<provider>/<token>`` wherever it stands: behind a proxy's path prefix (the app
# mounted under a root path, whose ``scope["path"]`` still carries the prefix) the route
# begins further right, and the token must go all the same. Unanchored and case-blind on
# purpose: masking a path that only looks like a callback costs nothing.
_CALLBACK_PATH = re.compile(r"(/callbacks/[^/?#]+/)[^/?#]+", re.IGNORECASE)


def redact_path(path: str) -> str:
    """``path`` with the token of every callback route in it replaced by ``[token]``."""
    return _CALLBACK_PATH.sub(r"\1[token]", path)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # With info lines filtered out (RECEIVER_LOG_LEVEL=warning), measuring and masking
        # are skipped too: this runs for every callback.
        if scope["type"] != "http" or not log.is_enabled_for(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            client = scope.get("client")
            forwarded = dict(scope.get("headers", [])).get(b"x-forwarded-for")
            log.info(
                "http.request",
                method=scope["method"],
                path=redact_path(scope["path"]),
                status=status,
                client=client_address(
                    client[0] if client else None,
                    forwarded.decode("latin-1") if forwarded else None,
                    self.trusted_proxies,
                ),
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
