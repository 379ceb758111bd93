"""A bound on every request body the router's routes read.

The callback route bounds its own body (``RECEIVER_MAX_BODY_BYTES``; it is served in front of
this, see :mod:`receiver.web.callbacks`); this does the same for the API and the gallery, so
that no handler that reads a body (``await request.json()``) can be made to hold more than
:func:`body_limit`. A declared ``Content-Length`` over it is refused before anything is
read; a body that grows past it while being read is refused as soon as it does. Both answer
``413`` in the app's error shape (:mod:`receiver.web.error_json`).
"""

from __future__ import annotations

import math

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from receiver.config import Settings
from receiver.submission.images import MAX_IMAGE_BYTES
from receiver.web.error_json import error_response

__all__ = ["API_BODY_BYTES", "BodyLimit", "body_limit"]

#: A job request may carry its first frame as a ``data:`` URL (``receiver.client`` sends a
#: local image so): the largest frame in base64, and a MiB for the rest of the request.
API_BODY_BYTES = 4 * math.ceil(MAX_IMAGE_BYTES / 3) + 1024 * 1024


def body_limit(settings: Settings) -> int:
    """The largest body a route of the router reads: room for a job request with its first
    frame, or RECEIVER_MAX_BODY_BYTES if that is more."""
    return max(settings.max_body_bytes, API_BODY_BYTES)


class BodyLimit:
    """ASGI middleware: request bodies of at most :func:`body_limit` bytes."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self._limit = body_limit(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit
        message = f"the body is over {limit} bytes"
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await error_response(413, "too_large", message)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > limit:
                    # Raised inside the handler's read: Starlette's exception handling
                    # turns it into the JSON answer (receiver.web.error_json).
                    raise HTTPException(413, message)
            return event

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
