"""``receiver worker``: an archive worker as its own process, with uvicorn-style signals.

The first SIGINT/SIGTERM asks the worker to finish what it holds and stop; a second one
exits at once. Either way nothing is lost: an unfinished task keeps its row and its lease
simply lapses, so another worker (or this one, restarted) takes it again.
"""

from __future__ import annotations

import os
import signal
import threading
from types import FrameType

import structlog

from receiver.archive.worker import ArchiveWorker
from receiver.context import Context

__all__ = ["run_worker"]

log = structlog.get_logger(__name__)


def run_worker(ctx: Context, *, shutdown_timeout: float = 30.0) -> None:
    worker = ArchiveWorker(ctx.db, ctx.store, ctx.settings, provider_for=ctx.provider)
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
        worker.stop(timeout=shutdown_timeout)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
