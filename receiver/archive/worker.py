"""The archive worker: claims archive tasks from the database and stores their videos.

Tasks live in the ``archive_tasks`` table, never only in memory: a worker claims one with a
lease, renews the lease as parts go up, and records the outcome in one transaction with the
asset, the job's new status and its event. A worker that dies simply lets its lease lapse,
and the task is claimed again. Work is taken earliest deadline first, and a failure is
retried with exponential backoff and jitter for as long as the provider's link lives.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog

from receiver import clock, events, metrics, providers
from receiver.archive.confirm import confirmed_video_url
from receiver.archive.fetch import FetchPolicy, Opened, guarded_client, stream_video
from receiver.archive.journal import LeaseLost, UploadJournal
from receiver.archive.probe import VideoFacts, probe
from receiver.archive.upload import (
    Checkpoint,
    Patience,
    Resume,
    StoredObject,
    UploadPaused,
    upload_stream,
)
from receiver.config import Settings
from receiver.errors import (
    ConfirmationError,
    FetchError,
    LinkExpired,
    ObjectConflict,
    StorageError,
)
from receiver.providers.base import Provider
from receiver.storage import ObjectStore, UploadedPart, asset_key
from receiver.store.database import Connection, Database, is_database_error
from receiver.store.records import ArchiveTask, Job

__all__ = ["ArchiveWorker"]

log = structlog.get_logger(__name__)

#: Retries go on, at most this far apart, until the provider's link dies.
_MAX_BACKOFF = 600.0
#: Seconds between two archive.progress events of one archive.
_PROGRESS_EVERY = 1.0
#: How long before the link's deadline the last retry is made.
_LAST_TRY = timedelta(seconds=30)


@dataclass(frozen=True, kw_only=True)
class _Held:
    """A job's checkpoint, and the length of the whole file it is part of."""

    checkpoint: Checkpoint
    length: int | None


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
        self._provider_for = provider_for or (lambda name: providers.build(name, settings))
        self._settings = settings
        self._lease = timedelta(seconds=lease_seconds or settings.lease_seconds)
        self._idle = idle_seconds
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{clock.new_id('w')[-8:]}"
        self._policy = FetchPolicy(
            allow_insecure=settings.insecure,
            allowed_hosts=settings.fetch_allowed_hosts,
            max_bytes=settings.max_video_bytes,
            min_rate=settings.fetch_min_rate,
            rate_window=settings.fetch_rate_window,
        )
        self._http = guarded_client(self._policy, timeout=settings.fetch_timeout)
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._journal = UploadJournal(db, store, owner=self.worker_id, lease=self._lease)
        #: Per job, the hash state after its last stored part, so that a retry in this
        #: process fetches only the rest of the file. Lost on restart (then it is re-read).
        self._checkpoints: dict[str, _Held] = {}

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
        self._http.close()
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
        """Claim and process one ready task; False when there was none."""
        task, job = self._claim()
        if task is None or job is None:
            return False
        with structlog.contextvars.bound_contextvars(job_id=job.id, task_id=job.task_id):
            self._process(task, job)
        return True

    def _claim(self) -> tuple[ArchiveTask | None, Job | None]:
        now = clock.now()
        with self._db.transaction() as conn:
            row = conn.fetch_one(
                "claim_archive_task",
                owner=self.worker_id,
                lease_until=clock.to_db(now + self._lease),
                now=clock.to_db(now),
            )
            if row is None:
                return None, None
            task = ArchiveTask.from_row(row)
            job_row = conn.fetch_one("get_job", id=task.job_id)
        assert job_row is not None
        return task, Job.from_row(job_row)

    def _process(self, task: ArchiveTask, job: Job) -> None:
        key = asset_key(self._settings.s3_prefix, job.id, job.created_at)
        if clock.now() >= task.deadline_at:
            self._expire(task, key, "the provider's video link expired before it was archived")
            return
        log.info("archive.started", key=key, attempt=task.attempts)
        started = time.monotonic()
        try:
            source_url = self._source_url(task, job)
            stored = self._download_and_upload(task, source_url, key)
        except LeaseLost:
            log.warning("archive.lease_lost")
            return
        except UploadPaused:
            self._release(task)
            return
        except (FetchError, StorageError, ConfirmationError) as exc:
            self._failed(task, key, exc)
        except Exception as exc:
            if is_database_error(exc):
                # The database blinked: keep the upload and its journal; the lease lapses and
                # the next claim resumes from the last recorded part.
                log.warning("archive.database_unavailable", error=str(exc))
                return
            # A bug or a surprise must still end the attempt visibly, not leave the task
            # "running" until its lease lapses again and again.
            log.exception("archive.unexpected_error")
            self._failed(task, key, FetchError(f"unexpected error: {exc!r}", permanent=True))
        else:
            self._record_stored(task, stored, self._facts(stored))
            metrics.ARCHIVE_SECONDS.observe(time.monotonic() - started)

    def _facts(self, stored: StoredObject) -> VideoFacts:
        """The video's facts; never a reason to redo an archive that is complete."""
        try:
            return probe(self._store, stored.key, stored.size)
        except Exception:
            log.exception("archive.probe_failed", key=stored.key)
            return VideoFacts()

    def _source_url(self, task: ArchiveTask, job: Job) -> str:
        if not task.confirm_first:
            return task.source_url
        url = confirmed_video_url(self._provider_for(job.provider), job)
        now = clock.to_db(clock.now())
        with self._db.transaction() as conn:
            if not conn.execute(
                "set_archive_source",
                job_id=task.job_id,
                owner=self.worker_id,
                source_url=url,
                now=now,
            ):
                raise LeaseLost()
            events.append(conn, task.job_id, "job.confirmed", source="provider_task_api")
        log.info("archive.confirmed_with_provider")
        return url

    def _download_and_upload(self, task: ArchiveTask, url: str, key: str) -> StoredObject:
        part_size = self._settings.part_size
        resume = self._journal.resumable(task, key, part_size)
        held = self._checkpoints.pop(task.job_id, None)
        if resume is not None and held is not None and held.checkpoint.parts == resume.parts:
            # This process still holds the hash of the stored prefix: fetch only the rest.
            resume = replace(resume, digest=held.checkpoint.digest.copy())
        opened: list[Opened] = []
        if (
            resume is not None
            and resume.digest is not None
            and held
            and held.length == resume.offset
        ):
            # Every byte is stored already (completing failed last time): just complete.
            download: Generator[bytes, None, None] = _nothing()
            opened.append(Opened(validator=task.source_validator, length=held.length, offset=0))
            chunks: Iterator[bytes] = download
        else:
            download, chunks, resume = self._open_source(task, url, key, resume, opened)

        def on_start(upload_id: str) -> None:
            self._journal.started(task, upload_id, part_size)

        stored = [resume.offset if resume else 0]
        told_at = [-_PROGRESS_EVERY]

        def on_part(part: UploadedPart) -> None:
            if resume is None and part.number == 1:
                self._journal.source_seen(task, opened[0].validator if opened else None)
            stored[0] += part.size
            total = opened[0].length if opened else None
            # Every part is journaled; the event feed hears at most once a second (and of
            # the last part), which is all a progress bar needs.
            tell = time.monotonic() - told_at[0] >= _PROGRESS_EVERY or stored[0] == total
            if tell:
                told_at[0] = time.monotonic()
            self._journal.part_done(task, part, progress=(stored[0], total) if tell else None)
            if self._stopping.is_set():
                raise UploadPaused("stopping at a part boundary; the upload will be resumed")

        def on_checkpoint(checkpoint: Checkpoint) -> None:
            self._checkpoints[task.job_id] = _Held(
                checkpoint=checkpoint, length=opened[0].length if opened else None
            )

        try:
            return upload_stream(
                self._store,
                key,
                self._renewing(task, chunks, closing=download),
                part_size=part_size,
                max_bytes=self._settings.max_video_bytes,
                resume=resume,
                on_start=on_start,
                on_part=on_part,
                on_checkpoint=on_checkpoint,
                in_flight=self._settings.parts_in_flight,
                expected_size=lambda: opened[0].length if opened else None,
                patience=Patience(
                    seconds=self._settings.store_patience, keep_alive=lambda: self._renew(task)
                ),
            )
        except (FetchError, StorageError):
            raise  # the checkpoint stays, for the retry in this process
        except BaseException:
            self._checkpoints.pop(task.job_id, None)
            raise
        else:
            self._checkpoints.pop(task.job_id, None)

    def _open_source(
        self,
        task: ArchiveTask,
        url: str,
        key: str,
        resume: Resume | None,
        opened: list[Opened],
    ) -> tuple[Generator[bytes, None, None], Iterator[bytes], Resume | None]:
        """The download, its chunks, and the resume still valid once the source answered."""
        # The download is lazy: for a fresh archive it starts only once the upload is open,
        # so an unreachable store fails the attempt before the source is touched (one video,
        # one download). A resume asks for the rest of the file only if it is still the
        # same file (If-Range), and peeks at the answer before going on.
        download = stream_video(
            self._http,
            url,
            self._policy,
            start=resume.offset if resume is not None and resume.digest is not None else 0,
            if_range=task.source_validator if resume is not None else None,
            on_open=opened.append,
        )
        if resume is None:
            return download, download, None
        first = next(download, b"")
        answer = opened[0] if opened else None
        if answer is None or answer.validator is None or answer.validator != task.source_validator:
            log.info(
                "archive.source_changed",
                before=task.source_validator,
                now=answer.validator if answer else None,
            )
            self._journal.discard(task, key)
            resume = None
            if answer is not None and answer.offset != 0:
                raise FetchError("the source served part of a file that is not the same one")
        elif answer.offset == 0 and resume.digest is not None:
            # The same file, but the source does not do ranges: hash the prefix again.
            resume = replace(resume, digest=None)
        return download, itertools.chain([first], download), resume

    def _renewing(
        self, task: ArchiveTask, chunks: Iterator[bytes], *, closing: Generator[bytes, None, None]
    ) -> Iterator[bytes]:
        """Pass chunks through, renewing the lease on time, however slow the source is."""
        every = self._lease.total_seconds() / 3
        last = time.monotonic()
        try:
            for chunk in chunks:
                if time.monotonic() - last >= every:
                    self._renew(task)
                    if clock.now() >= task.deadline_at:
                        # A source trickling bytes must not hold the archive past the end.
                        raise LinkExpired("the link expired while the video was downloading")
                    last = time.monotonic()
                yield chunk
        finally:
            # Close the download now, not whenever the generator is collected.
            closing.close()

    def _renew(self, task: ArchiveTask) -> None:
        now = clock.now()
        with self._db.transaction() as conn:
            kept = conn.execute(
                "renew_archive_lease",
                job_id=task.job_id,
                owner=self.worker_id,
                lease_until=clock.to_db(now + self._lease),
                now=clock.to_db(now),
            )
        if not kept:
            raise LeaseLost()

    # ── outcomes ──

    def _record_stored(self, task: ArchiveTask, stored: StoredObject, facts: VideoFacts) -> None:
        now = clock.to_db(clock.now())
        with self._db.transaction() as conn:
            if not self._finish(conn, task, "done", None, now):
                # Our lease lapsed and another worker has the task; it will find the
                # identical object in place and record it.
                log.warning("archive.lease_lost_at_finish")
                return
            conn.execute("clear_journal", job_id=task.job_id)
            conn.execute(
                "insert_asset",
                job_id=task.job_id,
                bucket=self._store.bucket,
                object_key=stored.key,
                size_bytes=stored.size,
                sha256=stored.sha256,
                content_type="video/mp4",
                etag=stored.etag,
                now=now,
                duration_seconds=facts.duration_seconds,
                width=facts.width,
                height=facts.height,
                codec=facts.codec,
            )
            conn.execute("mark_job_stored", id=task.job_id, now=now)
            events.append(
                conn,
                task.job_id,
                "asset.stored",
                bucket=self._store.bucket,
                key=stored.key,
                size=stored.size,
                sha256=stored.sha256,
                duration_seconds=facts.duration_seconds,
                width=facts.width,
                height=facts.height,
                codec=facts.codec,
            )
        self._journal.sweep(stored.key)
        metrics.ARCHIVES.labels("stored").inc()
        metrics.ARCHIVE_BYTES.inc(stored.size)
        log.info(
            "archive.stored",
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            reused_existing=not stored.created,
        )

    def _failed(
        self, task: ArchiveTask, key: str, exc: FetchError | StorageError | ConfirmationError
    ) -> None:
        if isinstance(exc, LinkExpired):
            self._expire(task, key, exc.message)
            return
        permanent = isinstance(exc, ObjectConflict) or (
            isinstance(exc, FetchError | ConfirmationError) and exc.permanent
        )
        delay = _backoff(task.attempts)
        if isinstance(exc, ConfirmationError):
            delay = max(delay, exc.retry_after)
        # The last try comes a little before the link dies rather than not at all.
        retry_at = min(clock.now() + timedelta(seconds=delay), task.deadline_at - _LAST_TRY)
        now = clock.to_db(clock.now())
        if not permanent and retry_at <= clock.now():
            self._expire(task, key, f"the link expired while retrying: {exc.message}")
            return
        if permanent or task.attempts >= self._settings.archive_max_attempts:
            reason = f"archiving failed after {task.attempts} attempt(s): {exc.message}"
            with self._db.transaction() as conn:
                upload_id = self._owned_upload(conn, task)
                if not self._finish(conn, task, "failed", exc.message, now):
                    return  # another worker holds the task now; its outcome will count
                conn.execute("clear_journal", job_id=task.job_id)
                conn.execute("flag_job", id=task.job_id, attention=reason, now=now)
                events.append(conn, task.job_id, "archive.failed", reason=exc.message)
            self._journal.abort(key, upload_id)
            self._journal.sweep(key)
            metrics.ARCHIVES.labels("failed").inc()
            log.error("archive.failed", error=exc.message, attempts=task.attempts)
            return
        with self._db.transaction() as conn:
            conn.execute(
                "retry_archive_task",
                job_id=task.job_id,
                owner=self.worker_id,
                not_before=clock.to_db(retry_at),
                last_error=exc.message,
                now=now,
            )
        metrics.ARCHIVES.labels("retry").inc()
        log.warning("archive.retry", error=exc.message, attempt=task.attempts, in_seconds=delay)

    def _owned_upload(self, conn: Connection, task: ArchiveTask) -> str | None:
        """The open upload of the task, read only while we still hold it."""
        row = conn.fetch_one("get_archive_task", job_id=task.job_id)
        if row is None or row["lease_owner"] != self.worker_id:
            return None
        return str(row["upload_id"]) if row["upload_id"] else None

    def _finish(
        self, conn: Connection, task: ArchiveTask, state: str, error: str | None, now: str
    ) -> bool:
        """End the task in ``state``; False when our lease lapsed and it is someone else's."""
        return bool(
            conn.execute(
                "finish_archive_task",
                job_id=task.job_id,
                owner=self.worker_id,
                state=state,
                last_error=error,
                now=now,
            )
        )

    def _release(self, task: ArchiveTask) -> None:
        with self._db.transaction() as conn:
            conn.execute(
                "release_archive_task",
                job_id=task.job_id,
                owner=self.worker_id,
                now=clock.to_db(clock.now()),
            )
        log.info("archive.released_for_shutdown")

    def _expire(self, task: ArchiveTask, key: str, reason: str) -> None:
        now = clock.to_db(clock.now())
        with self._db.transaction() as conn:
            upload_id = self._owned_upload(conn, task)
            if not self._finish(conn, task, "expired", reason, now):
                return
            conn.execute("clear_journal", job_id=task.job_id)
            conn.execute("mark_job_expired", id=task.job_id, attention=reason, now=now)
            events.append(conn, task.job_id, "job.expired", reason=reason)
        self._journal.abort(key, upload_id)
        self._journal.sweep(key)
        metrics.ARCHIVES.labels("expired").inc()
        log.error("archive.expired", reason=reason)


def _backoff(attempts: int) -> float:
    """Exponential backoff with jitter: 1-2 s, 2-4 s, 4-8 s ... never more than 10 minutes."""
    base = 2.0 ** max(0, attempts - 1)
    return min(_MAX_BACKOFF, base * (1 + random.random()))  # noqa: S311 - jitter, not crypto


def _nothing() -> Generator[bytes, None, None]:
    yield from ()
