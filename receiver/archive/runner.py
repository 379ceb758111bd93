"""``receiver worker``: an archive worker as its own process, with uvicorn-style signals.

The first SIGINT/SIGTERM asks the worker to stop: archives in flight stop at their next part
boundary, journaled, and go back to the queue (within ``RECEIVER_SHUTDOWN_TIMEOUT``); a
second signal exits at once. Either way nothing is lost: an unfinished task keeps its row and
its journal, its lease lapses, and whoever claims it next resumes from the last stored part.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import structlog
from prometheus_client import start_http_server

from receiver import metrics
from receiver.archive.worker import ArchiveWorker
from receiver.context import Context

__all__ = ["run_worker"]

log = structlog.get_logger(__name__)


def run_worker(ctx: Context, *, metrics_port: int | None = None) -> None:
    worker = ArchiveWorker(ctx.db, ctx.store, ctx.settings, provider_for=ctx.provider)
    if metrics_port is not None:
        start_http_server(metrics_port, addr="127.0.0.1", registry=metrics.registry_for(ctx.db))
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("worker.forced_exit", signal=signal.Signals(signum).name)
            os._exit(1)
        log.info("worker.shutting_down", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.start()
        stop.wait()
        worker.stop()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
