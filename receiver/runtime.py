"""The composition root: what runs in each kind of receiver process, and in what order.

Every long-running command is assembled here and nowhere else. Reading this file tells
what each process does:

==========================  =============================================================
process                      parts, in start order (stopped in reverse)
==========================  =============================================================
``receiver serve``           group committer, archive threads, archive wake-ups
                             (PostgreSQL), chores, notifier; the web app
``receiver serve             group committer; the web app (callbacks, API, gallery).
--no-worker``                Archiving, chores and notifications are a worker's job.
``receiver worker``          archive threads, archive wake-ups (PostgreSQL), chores,
                             notifier, metrics server (with ``--metrics-port``)
``receiver dev``             child processes, not parts: SeaweedFS, the provider simulator
                             and one ``receiver serve`` (see :mod:`receiver.devtools.dev`)
==========================  =============================================================

The *chores* (one thread, each on its own schedule): the watchdog (overdue jobs recovered
through the provider's task API), the warning about archives near their link's deadline,
the purge of old rejected deliveries and of final events no notifier took, and retention
(old videos and staged inputs). The *notifier* (its own thread, so a slow
subscriber never delays the watchdog) sends each final event to ``RECEIVER_NOTIFY_URLS``;
it runs only where notifications are configured. Several worker processes may share one
PostgreSQL database: every chore and the notifier settle who does what in the database
(claims and compare-and-set), so each effect happens once.

Process-wide settings (the collector's frozen start-up heap, glibc's allocator for
archiving) are applied by :func:`serve` and :func:`work`, the entry points, once.
"""

from __future__ import annotations

import gc
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Protocol

import structlog
from starlette.applications import Starlette

from receiver import metrics, retention
from receiver.archive.deadlines import warn_near_deadlines
from receiver.archive.memory import return_large_buffers_to_the_os
from receiver.archive.worker import ArchiveWorker
from receiver.context import Context
from receiver.deliveries import purge_rejected
from receiver.housekeeping import Chore, Housekeeper
from receiver.notify import Notifier, drop_stale
from receiver.store.group_commit import GroupCommitter
from receiver.store.wakeups import ArchiveWakeups
from receiver.watchdog import Watchdog
from receiver.web.app import create_app
from receiver.web.metrics_server import MetricsServer

__all__ = ["Part", "Parts", "WebParts", "serve", "web_app", "web_parts", "work", "worker_parts"]

log = structlog.get_logger(__name__)


class Part(Protocol):
    """Something a process runs in the background between start-up and shutdown."""

    name: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Parts:
    """Parts started in order and stopped in reverse; a failed start stops what had started."""

    def __init__(self, parts: Sequence[Part]) -> None:
        self.parts = list(parts)
        self._started: list[Part] = []

    @property
    def names(self) -> list[str]:
        return [part.name for part in self.parts]

    def start(self) -> None:
        for part in self.parts:
            try:
                part.start()
            except BaseException:
                self.stop()
                raise
            self._started.append(part)
            log.debug("runtime.started", part=part.name)

    def stop(self) -> None:
        while self._started:
            part = self._started.pop()
            try:
                part.stop()
            except Exception:
                log.exception("runtime.stop_failed", part=part.name)

    def __enter__(self) -> Parts:
        self.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.stop()


# ── the parts ──


def _archiving(ctx: Context) -> list[Part]:
    """What a process that archives runs: archive threads, the chores, the notifier."""
    settings = ctx.settings
    worker = ArchiveWorker(ctx.db, ctx.store, settings, provider_for=ctx.provider)
    watchdog = Watchdog(ctx.db, settings, ctx.provider)
    chores = Housekeeper(
        "chores",
        [
            Chore("watchdog", settings.watchdog_interval, watchdog.run_once),
            Chore(
                "deadline_warning",
                settings.deadline_check_interval,
                lambda: warn_near_deadlines(ctx.db, settings.deadline_warning),
            ),
            Chore(
                "purge_rejected",
                settings.purge_interval,
                lambda: purge_rejected(
                    ctx.db, settings.rejected_retention, keep=settings.rejected_max_rows
                ),
            ),
            # Where no process sends notifications, final events must not pile up unsent.
            Chore("drop_stale_outbox", settings.purge_interval, lambda: drop_stale(ctx.db)),
            # Stored videos and staged first frames past their retention (receiver/retention.py).
            Chore("retention", settings.purge_interval, lambda: retention.run_once(ctx)),
        ],
    )
    parts: list[Part] = [worker, chores]
    if ctx.db.dialect == "postgresql":
        # Work committed by another process wakes this one at once (NOTIFY), not at its
        # next poll; SQLite has one process, which wakes its own worker.
        parts.insert(1, ArchiveWakeups(settings.database_url, worker.wake))
    notifier = Notifier(ctx.db, settings, owner=worker.worker_id)
    if notifier.enabled:
        parts.append(
            Housekeeper(
                "notifier",
                [Chore("notify", settings.notify_interval, notifier.run_once)],
                on_stop=notifier.close,
            )
        )
    else:
        notifier.close()
    return parts


@dataclass(frozen=True)
class WebParts:
    """What ``receiver serve`` runs beside its routes, and what the callback route needs."""

    parts: Parts
    committer: GroupCommitter
    #: Tells the in-process archive threads that a callback enqueued work.
    wake: Callable[[], None] | None


def web_parts(ctx: Context, *, archive: bool) -> WebParts:
    """The parts of ``receiver serve``; with ``archive``, also everything a worker runs."""
    committer = GroupCommitter(ctx.db)
    parts: list[Part] = [committer]
    wake: Callable[[], None] | None = None
    if archive:
        archiving = _archiving(ctx)
        worker = archiving[0]
        assert isinstance(worker, ArchiveWorker)
        wake = worker.wake
        parts += archiving
    return WebParts(Parts(parts), committer, wake)


def web_app(ctx: Context, *, archive: bool) -> Starlette:
    """The web app of ``receiver serve``, its parts started and stopped with it."""
    web = web_parts(ctx, archive=archive)
    return create_app(ctx, committer=web.committer, parts=web.parts, wake=web.wake)


def worker_parts(ctx: Context, *, metrics_port: int | None = None) -> Parts:
    """What ``receiver worker`` runs."""
    parts = _archiving(ctx)
    if metrics_port is not None:
        parts.append(MetricsServer(metrics_port, metrics.registry_for(ctx.db)))
    return Parts(parts)


# ── the process entry points ──


def _tune_process(*, archives: bool) -> None:
    """Process-wide settings, applied once by the entry point after everything is built."""
    if archives:
        # Part buffers go back to the OS instead of fragmenting per-thread heaps
        # (receiver/archive/memory.py).
        return_large_buffers_to_the_os()
    # What start-up built (some 50k objects) lives as long as the process: frozen, the
    # collector's full passes (about one per 1,500 callbacks) no longer walk all of it.
    gc.collect()
    gc.freeze()


def serve(ctx: Context, *, host: str, port: int, archive: bool) -> None:
    """``receiver serve``: the web app under uvicorn, its parts started with the app."""
    from receiver.web.server import run_server

    app = web_app(ctx, archive=archive)
    _tune_process(archives=archive)
    run_server(app, ctx.settings, host=host, port=port)


def work(ctx: Context, *, metrics_port: int | None = None) -> None:
    """``receiver worker``: its parts, until SIGINT/SIGTERM.

    The first signal asks the parts to stop: archives in flight stop at their next part
    boundary, journaled, and go back to the queue (within ``RECEIVER_SHUTDOWN_TIMEOUT``); a
    second signal exits at once. Either way nothing is lost: an unfinished task keeps its
    row and its journal, its lease lapses, and whoever claims it next resumes.
    """
    parts = worker_parts(ctx, metrics_port=metrics_port)
    _tune_process(archives=True)
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("worker.forced_exit", signal=signal.Signals(signum).name)
            os._exit(1)
        log.info("worker.shutting_down", signal=signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with parts:
            log.info("worker.running", parts=parts.names)
            stop.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
