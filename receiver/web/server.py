"""Running the app under uvicorn with receiver's shutdown rules.

The first SIGINT/SIGTERM stops accepting connections, lets requests in flight finish and
stops the worker (archives in flight stop at their next part boundary, journaled), within
``RECEIVER_SHUTDOWN_TIMEOUT``. A second signal exits at once: nothing is lost either way,
since an unfinished archive keeps its row and its lease simply lapses.

The listening sockets are bound here, before the app starts: a port in use ends the command
with one line (exit status 1) before any part has started, where uvicorn would start the app,
log the error, stop the app again and exit with its own status 3.
"""

from __future__ import annotations

import socket

import structlog
import uvicorn
from starlette.types import ASGIApp

from receiver.compat.uvicorn_internals import ForcedExitServer
from receiver.config import Settings
from receiver.errors import ServiceError
from receiver.web.http_limits import HeadLimits, limited_protocol

__all__ = ["listen", "run_server"]

log = structlog.get_logger(__name__)


def listen(host: str, port: int, *, flag: str = "--port") -> list[socket.socket]:
    """Sockets bound to every address of ``host`` (as uvicorn would bind them), or a
    ServiceError that says which address is taken and what to do."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServiceError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(addresses):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            # As uvicorn and asyncio do: connections of a previous run in TIME_WAIT do not
            # hold the port, a process listening on it does.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise ServiceError(
                    f"cannot listen on {address[0]}:{port}: {exc.strerror or exc} (another "
                    f"receiver, or another program, holds it: stop it or choose another {flag})"
                ) from None
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


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
    sockets = listen(host, port)
    log.info("server.listening", host=host, port=port)
    try:
        # A second stop signal exits at once: see the module's docstring.
        ForcedExitServer(config).run(sockets=sockets)
    finally:
        for sock in sockets:
            sock.close()
