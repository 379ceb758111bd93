"""``receiver worker --metrics-port``: Prometheus metrics for a process without a web app."""

from __future__ import annotations

import threading
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server

from receiver.errors import ServiceError

__all__ = ["MetricsServer"]


class MetricsServer:
    """``/metrics`` on ``127.0.0.1:port``, served by prometheus_client in its own thread."""

    name = "metrics_server"

    def __init__(self, port: int, registry: CollectorRegistry) -> None:
        if not 0 < port < 65536:
            raise ServiceError(f"--metrics-port {port} is not a TCP port (1-65535)")
        self.port = port
        self._registry = registry
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        try:
            self._server, self._thread = start_http_server(
                self.port, addr="127.0.0.1", registry=self._registry
            )
        except OSError as exc:
            raise ServiceError(
                f"cannot serve metrics on 127.0.0.1:{self.port}: {exc.strerror or exc} "
                "(is another process using that port?)"
            ) from exc

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
