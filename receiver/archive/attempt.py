"""One attempt at archiving one claimed task: from the claim to its recorded outcome.

A task is one result of a job's task (its ``result_index``): a job with four images has four
archive tasks, each with its own lease, journal, key and asset, archived independently.
An :class:`ArchiveAttempt` is made per claim and holds everything about it: the task and its
job, the object key, what the source opened, how many bytes are stored. It drives the
download into the upload and is the upload's :class:`~receiver.archive.upload.UploadObserver`:
it journals each part (renewing the lease in the same transaction), reports progress, and
stops at a part boundary when the worker is stopping. The outcome is written in one
transaction with the asset, the job's new status and its event; a failure is judged by
:func:`receiver.archive.outcome.decide` and only applied here.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx
import structlog

from receiver import clock, events, media, metrics
from receiver.archive.confirm import confirmed_results
from receiver.archive.fetch import Download, DownloadLimits, Opened
from receiver.archive.journal import UploadJournal
from receiver.archive.keys import result_key
from receiver.archive.outcome import Expire, Fail, Failure, Limits, Retry, decide
from receiver.archive.probe import MediaFacts, VideoFacts, probe_media
from receiver.archive.upload import (
    Checkpoint,
    Resume,
    StoredObject,
    UploadObserver,
    UploadPaused,
    upload_stream,
)
from receiver.config import Settings
from receiver.errors import ConfirmationError, FetchError, LinkExpired, StorageError
from receiver.guarded_http import FetchPolicy
from receiver.providers.base import MediaKind, Provider
from receiver.storage import ObjectStore, UploadedPart
from receiver.store.archive_tasks import ArchiveTasks, LeaseLost
from receiver.store.assets import Assets
from receiver.store.database import Database, is_database_error
from receiver.store.jobs import Jobs
from receiver.store.records import ArchiveTask, Asset, Job

__all__ = [
    "ArchiveAttempt",
    "HeldCheckpoint",
    "WorkerTools",
    "asset_event_fields",
    "stored_event_fields",
]

log = structlog.get_logger(__name__)

#: Seconds between two archive.progress events of one archive.
_PROGRESS_EVERY = 1.0


@dataclass(frozen=True, kw_only=True)
class HeldCheckpoint:
    """A job's checkpoint, and the length of the whole file it is part of."""

    checkpoint: Checkpoint
    length: int | None


@dataclass(frozen=True, kw_only=True)
class WorkerTools:
    """What every attempt of one worker shares."""

    db: Database
    store: ObjectStore
    settings: Settings
    provider_for: Callable[[str], Provider]
    #: The worker's id: the owner of the leases it takes.
    owner: str
    lease: timedelta
    http: httpx.Client
    policy: FetchPolicy
    limits: DownloadLimits
    retry_limits: Limits
    journal: UploadJournal
    #: Set when the worker stops: attempts stop at their next part boundary.
    stopping: threading.Event
    #: Per result (job id, result index), the hash state after its last stored part, so that
    #: a retry in this process fetches only the rest of the file. Lost on restart (then the
    #: prefix is re-read).
    checkpoints: dict[tuple[str, int], HeldCheckpoint]


class ArchiveAttempt(UploadObserver):
    """One claimed task, archived once: call :meth:`run`."""

    def __init__(self, tools: WorkerTools, task: ArchiveTask, job: Job) -> None:
        self.task = task
        self.job = job
        self.key = result_key(
            tools.settings.s3_prefix,
            job.id,
            job.created_at,
            index=task.result_index,
            count=task.result_count,
            extension=task.extension,
        )
        self.kind: MediaKind = next((k for k in media.KINDS if k == task.media_kind), "video")
        #: The task's identity in every step: its job and the result's index.
        self._id = (task.job_id, task.result_index)
        self._tools = tools
        self._journal = tools.journal
        # ── the transfer's state, set as it goes ──
        self._download: Download | None = None
        #: What the file is when every byte is stored already (nothing is downloaded).
        self._stored_file: Opened | None = None
        #: A new upload rather than a resumed one: its first part records the validator.
        self._fresh = True
        #: Bytes of the file in the store.
        self._stored = 0
        self._told_at = -_PROGRESS_EVERY

    @property
    def _file(self) -> Opened | None:
        """What the source said about the file, once it answered (or the checkpoint did)."""
        return self._download.opened if self._download is not None else self._stored_file

    # ── the attempt ──

    def run(self) -> None:
        """Archive the task, record the outcome; never raises for a failed archive."""
        if clock.now() >= self.task.deadline_at:
            self._expire("the provider's video link expired before it was archived")
            return
        log.info(
            "archive.started",
            key=self.key,
            result_index=self.task.result_index,
            attempt=self.task.attempts,
        )
        started = time.monotonic()
        try:
            stored = self._transfer(self._source_url())
        except LeaseLost:
            log.warning("archive.lease_lost")
            return
        except UploadPaused:
            self._release()
            return
        except (FetchError, StorageError, ConfirmationError) as exc:
            self.failed(exc)
        except Exception as exc:
            if is_database_error(exc):
                # The database blinked: keep the upload and its journal; the lease lapses and
                # the next claim resumes from the last recorded part.
                log.warning("archive.database_unavailable", error=str(exc))
                return
            # A bug or a surprise must still end the attempt visibly, not leave the task
            # "running" until its lease lapses again and again.
            log.exception("archive.unexpected_error")
            self.failed(FetchError(f"unexpected error: {exc!r}", permanent=True))
        else:
            self._record_stored(stored, self._facts(stored))
            metrics.ARCHIVE_SECONDS.observe(time.monotonic() - started)

    def _source_url(self) -> str:
        if not self.task.confirm_first:
            return self.task.source_url
        results = confirmed_results(self._tools.provider_for(self.job.provider), self.job)
        index = self.task.result_index
        if index >= len(results):
            raise ConfirmationError(
                f"the provider lists {len(results)} result(s), not result {index}", permanent=True
            )
        url = results[index].url
        now = clock.now()
        with self._tools.db.transaction() as conn:
            tasks = ArchiveTasks(conn)
            tasks.set_source(*self._id, self._tools.owner, source_url=url, now=now)
            # Results the callback did not list (it had none, or fewer) are archived too,
            # each from the provider's own answer.
            for extra, result in enumerate(results[self.task.result_count :]):
                kind = media.kind_for(result.url, result.kind)
                tasks.enqueue(
                    self.task.job_id,
                    self.task.result_count + extra,
                    result_count=len(results),
                    media_kind=kind,
                    extension=media.extension_for(result.url, kind),
                    source_url=result.url,
                    confirm_first=False,
                    deadline_at=self.task.deadline_at,
                    now=clock.to_db(now),
                )
            events.append(
                conn,
                self.task.job_id,
                "job.confirmed",
                source="provider_task_api",
                result_index=index,
            )
        log.info("archive.confirmed_with_provider")
        return url

    def _transfer(self, url: str) -> StoredObject:
        """Download ``url`` into the task's upload, resuming what earlier attempts stored."""
        tools, job_id = self._tools, self._id
        part_size = tools.settings.part_size
        resume = self._journal.resumable(self.task, self.key, part_size)
        held = tools.checkpoints.pop(job_id, None)
        if resume is not None and held is not None and held.checkpoint.parts == resume.parts:
            # This process still holds the hash of the stored prefix: fetch only the rest.
            resume = replace(resume, digest=held.checkpoint.digest.copy())
        if (
            resume is not None
            and resume.digest is not None
            and held
            and held.length == resume.offset
        ):
            # Every byte is stored already (completing failed last time): just complete.
            self._stored_file = Opened(
                validator=self.task.source_validator, length=held.length, offset=0
            )
        else:
            self._download, resume = self._open_source(url, resume)
        self._fresh = resume is None
        self._stored = resume.offset if resume is not None else 0
        try:
            stored = upload_stream(
                tools.store,
                self.key,
                self._renewing(self._download),
                part_size=part_size,
                content_type=_CONTENT_TYPES[self.task.extension],
                kind=self.kind,
                max_bytes=tools.settings.max_video_bytes,
                resume=resume,
                observer=self,
                in_flight=tools.settings.parts_in_flight,
                patience=tools.settings.store_patience,
            )
        except (FetchError, StorageError):
            raise  # the checkpoint stays, for the retry in this process
        except BaseException:
            tools.checkpoints.pop(job_id, None)
            raise
        tools.checkpoints.pop(job_id, None)
        return stored

    def _open_source(self, url: str, resume: Resume | None) -> tuple[Download, Resume | None]:
        """The download, and the resume still valid once the source answered."""
        # A fresh archive's download is lazy: it starts only once the upload is open, so an
        # unreachable store fails the attempt before the source is touched (one video, one
        # download). A resume asks for the rest of the file only if it is still the same
        # file (If-Range), and opens the download here to see the answer before going on.
        download = Download(
            self._tools.http,
            url,
            self._tools.policy,
            limits=self._tools.limits,
            start=resume.offset if resume is not None and resume.digest is not None else 0,
            if_range=self.task.source_validator if resume is not None else None,
        )
        if resume is None:
            return download, None
        answer = download.open()
        if answer.validator is None or answer.validator != self.task.source_validator:
            log.info(
                "archive.source_changed", before=self.task.source_validator, now=answer.validator
            )
            self._journal.discard(self.task, self.key)
            if answer.offset != 0:
                download.close()
                raise FetchError("the source served part of a file that is not the same one")
            return download, None
        if answer.offset == 0 and resume.digest is not None:
            # The same file, but the source does not do ranges: hash the prefix again.
            return download, replace(resume, digest=None)
        return download, resume

    def _renewing(self, download: Download | None) -> Iterator[bytes]:
        """The download's chunks, the lease renewed on time however slow the source is."""
        if download is None:
            return
        every = self._tools.lease.total_seconds() / 3
        last = time.monotonic()
        try:
            for chunk in download:
                if time.monotonic() - last >= every:
                    self._renew()
                    if clock.now() >= self.task.deadline_at:
                        # A source trickling bytes must not hold the archive past the end.
                        raise LinkExpired("the link expired while the video was downloading")
                    last = time.monotonic()
                yield chunk
        finally:
            download.close()

    def _renew(self) -> None:
        now = clock.now()
        with self._tools.db.transaction() as conn:
            ArchiveTasks(conn).renew(
                *self._id, self._tools.owner, lease_until=now + self._tools.lease, now=now
            )

    def _facts(self, stored: StoredObject) -> MediaFacts:
        """The file's content type and facts; never a reason to redo a complete archive."""
        try:
            return probe_media(self._tools.store, stored.key, stored.size)
        except Exception:
            log.exception("archive.probe_failed", key=stored.key)
            return MediaFacts(content_type=None, facts=VideoFacts())

    # ── what the upload tells (UploadObserver) ──

    def upload_started(self, upload_id: str) -> None:
        self._journal.started(self.task, upload_id, self._tools.settings.part_size)

    def part_stored(self, part: UploadedPart, checkpoint: Checkpoint) -> None:
        # In this order: what the file is (before the journal counts a part of it), the
        # part and the lease, and only then the hash state a retry in this process may use
        # (it must never run ahead of the journal).
        file = self._file
        total = file.length if file is not None else None
        if self._fresh and part.number == 1:
            self._journal.source_seen(self.task, file.validator if file is not None else None)
        self._stored += part.size
        # Every part is journaled; the event feed hears at most once a second (and of the
        # last part), which is all a progress bar needs.
        tell = time.monotonic() - self._told_at >= _PROGRESS_EVERY or self._stored == total
        if tell:
            self._told_at = time.monotonic()
        self._journal.part_done(self.task, part, progress=(self._stored, total) if tell else None)
        if self._tools.stopping.is_set():
            raise UploadPaused("stopping at a part boundary; the upload will be resumed")
        self._tools.checkpoints[self._id] = HeldCheckpoint(checkpoint=checkpoint, length=total)

    def announced_size(self) -> int | None:
        file = self._file
        return file.length if file is not None else None

    def store_unavailable(self) -> None:
        self._renew()

    # ── outcomes ──

    def failed(self, failure: Failure) -> None:
        """Apply what :func:`~receiver.archive.outcome.decide` makes of ``failure``."""
        now = clock.now()
        jitter = random.random()  # noqa: S311 - jitter, not crypto
        decision = decide(self.task, failure, now, self._tools.retry_limits, jitter=jitter)
        match decision:
            case Expire(reason=reason):
                self._expire(reason)
            case Fail():
                self._fail(decision)
            case Retry(at=at, delay=delay, error=error):
                with self._tools.db.transaction() as conn:
                    ArchiveTasks(conn).retry_later(
                        *self._id,
                        self._tools.owner,
                        not_before=at,
                        last_error=error,
                        now=now,
                    )
                metrics.ARCHIVES.labels("retry").inc()
                log.warning(
                    "archive.retry", error=error, attempt=self.task.attempts, in_seconds=delay
                )

    def _fail(self, decision: Fail) -> None:
        now = clock.now()
        with self._tools.db.transaction() as conn:
            tasks = ArchiveTasks(conn)
            upload_id = tasks.upload_if_owned(*self._id, self._tools.owner)
            if not tasks.finish(
                *self._id,
                self._tools.owner,
                state="failed",
                last_error=decision.error,
                now=now,
            ):
                return  # another worker holds the task now; its outcome will count
            tasks.clear_journal(*self._id)
            # One result failing puts the job before a person; the others go on.
            Jobs(conn).flag(self.task.job_id, decision.attention, now=now)
            events.append(
                conn,
                self.task.job_id,
                "archive.failed",
                reason=decision.error,
                result_index=self.task.result_index,
            )
        self._journal.abort(self.key, upload_id)
        self._journal.sweep(self.key)
        metrics.ARCHIVES.labels("failed").inc()
        log.error("archive.failed", error=decision.error, attempts=self.task.attempts)

    def _expire(self, reason: str) -> None:
        now = clock.now()
        with self._tools.db.transaction() as conn:
            tasks = ArchiveTasks(conn)
            upload_id = tasks.upload_if_owned(*self._id, self._tools.owner)
            if not tasks.finish(
                *self._id, self._tools.owner, state="expired", last_error=reason, now=now
            ):
                return
            tasks.clear_journal(*self._id)
            # One result lost makes the job expired (once: a compare-and-set); the others
            # are still archived and listed.
            if Jobs(conn).mark_expired(self.task.job_id, reason, now=now):
                events.append(
                    conn,
                    self.task.job_id,
                    "job.expired",
                    reason=reason,
                    result_index=self.task.result_index,
                )
        self._journal.abort(self.key, upload_id)
        self._journal.sweep(self.key)
        metrics.ARCHIVES.labels("expired").inc()
        log.error("archive.expired", reason=reason)

    def _release(self) -> None:
        with self._tools.db.transaction() as conn:
            ArchiveTasks(conn).release(*self._id, self._tools.owner, now=clock.now())
        log.info("archive.released_for_shutdown")

    def _record_stored(self, stored: StoredObject, found: MediaFacts) -> None:
        now = clock.now()
        at = clock.to_db(now)
        facts = found.facts
        content_type = found.content_type or _CONTENT_TYPES[self.task.extension]
        job_id, index = self._id
        with self._tools.db.transaction() as conn:
            # The job's row first: the workers finishing its last results take turns here,
            # so exactly one of them sees every result stored and says so.
            jobs = Jobs(conn)
            jobs.lock(job_id)
            tasks = ArchiveTasks(conn)
            if not tasks.finish(
                job_id, index, self._tools.owner, state="done", last_error=None, now=now
            ):
                # Our lease lapsed and another worker has the task; it will find the
                # identical object in place and record it.
                log.warning("archive.lease_lost_at_finish")
                return
            tasks.clear_journal(job_id, index)
            tasks.insert_asset(
                Asset(
                    job_id=job_id,
                    result_index=index,
                    bucket=self._tools.store.bucket,
                    object_key=stored.key,
                    size_bytes=stored.size,
                    sha256=stored.sha256,
                    content_type=content_type,
                    etag=stored.etag,
                    stored_at=now,
                    duration_seconds=facts.duration_seconds,
                    width=facts.width,
                    height=facts.height,
                    codec=facts.codec,
                )
            )
            if self.task.result_count > 1 or index > 0:
                events.append(
                    conn,
                    job_id,
                    "result.stored",
                    at=at,
                    result_index=index,
                    **_asset_fields(self._tools.store.bucket, stored, content_type, facts),
                )
            if not tasks.unstored_results(job_id) and jobs.mark_stored(job_id, now=now):
                # Every result is stored: one event (and one notification) for the job, the
                # first file's fields as ever, and every file listed.
                events.append(
                    conn,
                    job_id,
                    "asset.stored",
                    at=at,
                    **stored_event_fields(Assets(conn).for_job(job_id)),
                )
        self._journal.sweep(stored.key)
        metrics.ARCHIVES.labels("stored").inc()
        metrics.ARCHIVE_BYTES.inc(stored.size)
        log.info(
            "archive.stored",
            key=stored.key,
            size=stored.size,
            sha256=stored.sha256,
            content_type=content_type,
            reused_existing=not stored.created,
        )


#: The content type an upload is opened with, by the key's extension (the stored object's
#: own bytes name the asset's content type once it is complete).
_CONTENT_TYPES = {
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
}


def _asset_fields(
    bucket: str, stored: StoredObject, content_type: str, facts: VideoFacts
) -> dict[str, object]:
    return {
        "bucket": bucket,
        "key": stored.key,
        "size": stored.size,
        "sha256": stored.sha256,
        "content_type": content_type,
        "duration_seconds": facts.duration_seconds,
        "width": facts.width,
        "height": facts.height,
        "codec": facts.codec,
    }


def asset_event_fields(asset: Asset) -> dict[str, object]:
    """An asset as ``asset.stored`` lists it: the API's shape of an asset (``Asset``)."""
    return {
        "uri": asset.uri,
        "result_index": asset.result_index,
        "bucket": asset.bucket,
        "key": asset.object_key,
        "size_bytes": asset.size_bytes,
        "sha256": asset.sha256,
        "content_type": asset.content_type,
        "stored_at": asset.stored_at.isoformat().replace("+00:00", "Z"),
        "duration_seconds": asset.duration_seconds,
        "width": asset.width,
        "height": asset.height,
        "codec": asset.codec,
    }


def stored_event_fields(assets: list[Asset]) -> dict[str, object]:
    """What ``asset.stored`` says of a job's files: the first one's fields as it always
    did (``key``, ``size``, ``sha256``, ...), and every file under ``assets`` (none for a
    task that made no file)."""
    fields: dict[str, object] = {}
    if assets:
        first = assets[0]
        fields = {
            "bucket": first.bucket,
            "key": first.object_key,
            "size": first.size_bytes,
            "sha256": first.sha256,
            "content_type": first.content_type,
            "duration_seconds": first.duration_seconds,
            "width": first.width,
            "height": first.height,
            "codec": first.codec,
        }
    return {**fields, "assets": [asset_event_fields(asset) for asset in assets]}
