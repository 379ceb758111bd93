"""A notification subscriber for tests: a real HTTP endpoint that verifies every request.

It checks the Standard Webhooks signature with the ``standardwebhooks`` library, exactly as
a user's endpoint would with the documented secret format (``whsec_`` + base64).
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.servers import run_server


def new_secret() -> str:
    """A notification secret in the documented format."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Subscriber:
    """Records every verified notification; answers ``answers`` in turn, then 204."""

    def __init__(self, secret: str) -> None:
        self.answers: list[int] = []
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.forged = 0
        self._verifier = Webhook(secret)
        self._lock = threading.Lock()

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        try:
            payload = self._verifier.verify(raw, dict(request.headers))
        except Exception:
            with self._lock:
                self.forged += 1
            return Response(status_code=400)
        with self._lock:
            self.received.append((request.headers["webhook-id"], payload))
            status = self.answers.pop(0) if self.answers else 204
        return Response(status_code=status, headers={"retry-after": "0"})

    def ids(self) -> list[str]:
        with self._lock:
            return [webhook_id for webhook_id, _ in self.received]

    def payloads(self) -> list[dict[str, Any]]:
        with self._lock:
            return [payload for _, payload in self.received]


@contextmanager
def subscriber(secret: str) -> Iterator[tuple[Subscriber, str]]:
    """A running subscriber and its URL."""
    endpoint = Subscriber(secret)
    app = Starlette(routes=[Route("/hook", endpoint.handle, methods=["POST"])])
    with run_server(app) as base:
        yield endpoint, f"{base}/hook"
