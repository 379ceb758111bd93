"""Running the app under uvicorn with receiver's shutdown rules.

The first SIGINT/SIGTERM stops accepting connections, lets requests in flight finish and
stops the worker (archives in flight stop at their next part boundary, journaled), within
``RECEIVER_SHUTDOWN_TIMEOUT``. A second signal exits at once: nothing is lost either way,
since an unfinished archive keeps its row and its lease simply lapses.
"""

from __future__ import annotations

import os
from types import FrameType

import structlog
import uvicorn
from starlette.types import ASGIApp

from receiver.config import Settings
from receiver.web.http_limits import HeadLimits, limited_protocol

__all__ = ["run_server"]

log = structlog.get_logger(__name__)


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            log.warning("server.forced_exit", signal=sig)
            os._exit(1)
        super().handle_exit(sig, frame)


def run_server(app: ASGIApp, settings: Settings, *, host: str, port: int) -> None:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        # uvicorn's access log prints paths, and callback paths hold tokens; receiver's own
        # access log masks them. log_config=None keeps receiver's logging setup.
        access_log=False,
        log_config=None,
        # The client address behind proxies is ours to decide (RECEIVER_TRUSTED_PROXIES);
        # uvicorn would otherwise believe X-Forwarded-For from any loopback peer.
        proxy_headers=False,
        timeout_graceful_shutdown=int(settings.shutdown_timeout),
        # Bounds on every request's head: header count and size, and the time it may take
        # to arrive (a trickling client is cut off); see receiver/web/http_limits.py.
        http=limited_protocol(
            HeadLimits(
                max_headers=settings.max_headers,
                max_head_bytes=settings.max_header_bytes,
                head_timeout=settings.request_timeout,
            )
        ),
    )
    _Server(config).run()
