"""The archive worker: threads that claim archive tasks and run one attempt at each.

Tasks live in the ``archive_tasks`` table, never only in memory: a worker claims one with a
lease (:class:`~receiver.store.archive_tasks.ArchiveTasks`), and an
:class:`~receiver.archive.attempt.ArchiveAttempt` renews it as parts go up and records the
outcome in one transaction with the asset, the job's new status and its event. A worker
that dies simply lets its lease lapse, and the task is claimed again. Work is taken earliest
deadline first, and a failure is retried with exponential backoff and jitter for as long as
the provider's link lives (:mod:`receiver.archive.outcome`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import structlog

from receiver import clock, providers
from receiver.archive.attempt import ArchiveAttempt, WorkerTools
from receiver.archive.fetch import DownloadLimits
from receiver.archive.journal import UploadJournal
from receiver.archive.outcome import Limits
from receiver.config import Settings
from receiver.guarded_http import FetchPolicy, guarded_client
from receiver.providers.base import Provider
from receiver.storage import ObjectStore
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.database import Database
from receiver.store.jobs import Jobs

__all__ = ["ArchiveWorker"]

log = structlog.get_logger(__name__)


class ArchiveWorker:
    name = "archive_threads"

    def __init__(
        self,
        db: Database,
        store: ObjectStore,
        settings: Settings,
        *,
        provider_for: Callable[[str], Provider] | None = None,
        lease_seconds: float | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        self._db = db
        self._store = store
        self._settings = settings
        self._lease = timedelta(seconds=lease_seconds or settings.lease_seconds)
        self._idle = idle_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{clock.new_id('w')[-8:]}"
        policy = FetchPolicy(
            allow_insecure=settings.insecure, allowed_hosts=settings.fetch_allowed_hosts
        )
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._tools = WorkerTools(
            db=db,
            store=store,
            settings=settings,
            provider_for=provider_for or (lambda name: providers.build(name, settings)),
            owner=self.worker_id,
            lease=self._lease,
            http=guarded_client(policy, timeout=settings.fetch_timeout),
            policy=policy,
            limits=DownloadLimits(
                max_bytes=settings.max_video_bytes,
                min_rate=settings.fetch_min_rate,
                rate_window=settings.fetch_rate_window,
            ),
            retry_limits=Limits(max_attempts=settings.archive_max_attempts),
            journal=UploadJournal(db, store, owner=self.worker_id, lease=self._lease),
            stopping=self._stopping,
            checkpoints={},
        )

    # ── lifecycle ──

    def start(self) -> None:
        self._store.ensure_bucket()
        for number in range(self._settings.archive_concurrency):
            thread = threading.Thread(target=self._loop, name=f"archive-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        log.info("worker.started", worker=self.worker_id, threads=len(self._threads))

    def wake(self) -> None:
        """New work was enqueued: look now rather than at the next idle tick."""
        self._wakeup.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; archives in flight stop at their next part boundary, journaled."""
        timeout = self._settings.shutdown_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self._stopping.set()
        self._wakeup.set()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        self._tools.http.close()
        log.info("worker.stopped", worker=self.worker_id)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                worked = self.run_once()
            except Exception:
                log.exception("worker.loop_error", worker=self.worker_id)
                worked = False
            if not worked:
                self._wakeup.wait(self._idle)
                self._wakeup.clear()

    # ── one task ──

    def run_once(self) -> bool:
        """Claim one ready task and run an attempt at it; False when there was none."""
        attempt = self.claim()
        if attempt is None:
            return False
        with structlog.contextvars.bound_contextvars(
            job_id=attempt.job.id,
            task_id=attempt.job.task_id,
            result_index=attempt.task.result_index,
        ):
            attempt.run()
        return True

    def claim(self) -> ArchiveAttempt | None:
        """The attempt at the most urgent ready task, now leased to this worker."""
        now = clock.now()
        with self._db.transaction() as conn:
            task = ArchiveTasks(conn).claim(self.worker_id, lease_until=now + self._lease, now=now)
            if task is None:
                return None
            job = Jobs(conn).get(task.job_id)
        assert job is not None  # a task belongs to its job (foreign key)
        return ArchiveAttempt(self._tools, task, job)
