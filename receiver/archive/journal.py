"""The journal of an archive's multipart upload: what makes a killed worker's work resumable.

As soon as an upload is opened its id and part size are written down with the archive task,
and every part is written down the moment the store has it (number, ETag, size), in the same
transaction that renews the worker's lease. Whoever claims the task next (the same worker
restarted, or another) checks the journal against the parts the store really holds and
carries on from the last completed part, provided the source still serves the same file.
The rows are :class:`~receiver.store.archive_tasks.ArchiveTasks`'; this module holds them
against what the store really has.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

import structlog

from receiver import clock, events
from receiver.archive.upload import Resume
from receiver.errors import StorageError
from receiver.storage import ObjectStore, UploadedPart
from receiver.store.archive_tasks import ArchiveTasks, JournaledPart
from receiver.store.database import Database
from receiver.store.records import ArchiveTask

__all__ = ["UploadJournal"]

log = structlog.get_logger(__name__)


class UploadJournal:
    """One worker's journal steps; each raises
    :class:`~receiver.store.archive_tasks.LeaseLost` once the task is no longer its own."""

    def __init__(self, db: Database, store: ObjectStore, *, owner: str, lease: timedelta) -> None:
        self._db = db
        self._store = store
        self._owner = owner
        self._lease = lease

    def resumable(self, task: ArchiveTask, key: str, part_size: int) -> Resume | None:
        """The upload a previous attempt left open, if it can be carried on; else cleaned up."""
        if not task.upload_id:
            return None
        with self._db.reading() as conn:
            journaled = ArchiveTasks(conn).journaled_parts(task.job_id, task.result_index)
        # None when the upload is gone or may not be listed: resuming blind could store a
        # wrong file, so it starts afresh. A store that is down raises: the journal waits.
        held = self._store.uploaded_parts(key, task.upload_id)
        parts: list[UploadedPart] = []
        if held is not None and task.part_size == part_size:
            for entry in journaled:
                # Only the unbroken run from part 1 that the store confirms counts.
                if entry.number != len(parts) + 1 or held.get(entry.number) != entry.etag:
                    break
                parts.append(UploadedPart(number=entry.number, etag=entry.etag, size=entry.size))
        if not parts:
            self.discard(task, key)
            return None
        log.info(
            "archive.resuming",
            upload_id=task.upload_id,
            parts=len(parts),
            offset=sum(p.size for p in parts),
        )
        return Resume(upload_id=task.upload_id, part_size=part_size, parts=tuple(parts))

    def started(self, task: ArchiveTask, upload_id: str, part_size: int) -> None:
        with self._db.transaction() as conn:
            ArchiveTasks(conn).set_upload(
                task.job_id,
                task.result_index,
                self._owner,
                upload_id=upload_id,
                part_size=part_size,
                now=clock.now(),
            )

    def part_done(
        self, task: ArchiveTask, part: UploadedPart, *, progress: tuple[int, int | None] | None
    ) -> None:
        """Write the part down and renew the lease in one transaction; with ``progress``
        (bytes stored, of the whole), tell the event feed in the same transaction."""
        now = clock.now()
        with self._db.transaction() as conn:
            tasks = ArchiveTasks(conn)
            tasks.journal_part(
                task.job_id,
                task.result_index,
                JournaledPart(number=part.number, etag=part.etag, size=part.size),
            )
            if progress is not None:
                done, total = progress
                events.append(
                    conn,
                    task.job_id,
                    "archive.progress",
                    bytes=done,
                    total=total,
                    result_index=task.result_index,
                )
            tasks.renew(
                task.job_id,
                task.result_index,
                self._owner,
                lease_until=now + self._lease,
                now=now,
            )

    def source_seen(self, task: ArchiveTask, validator: str | None) -> None:
        with self._db.transaction() as conn:
            ArchiveTasks(conn).set_source_validator(
                task.job_id, task.result_index, self._owner, validator=validator, now=clock.now()
            )

    def discard(self, task: ArchiveTask, key: str) -> None:
        """Abort the task's open upload, if any, and forget its journal."""
        with self._db.reading() as conn:
            current = ArchiveTasks(conn).get(task.job_id, task.result_index)
        # The row, not the claim: this attempt may have opened an upload of its own since.
        upload_id = current.upload_id if current is not None else task.upload_id
        if upload_id:
            with contextlib.suppress(StorageError):
                self._store.abort_upload(key, upload_id)
            log.info("archive.discarded_upload", upload_id=upload_id)
        with self._db.transaction() as conn:
            ArchiveTasks(conn).clear_journal(task.job_id, task.result_index)

    def abort(self, key: str, upload_id: str | None) -> None:
        """Abort an upload this worker owned (best effort: the lifecycle rule is the net)."""
        if upload_id:
            with contextlib.suppress(StorageError):
                self._store.abort_upload(key, upload_id)
            log.info("archive.discarded_upload", upload_id=upload_id)

    def sweep(self, key: str) -> None:
        """Abort every upload still open on ``key`` once its task has ended.

        A worker killed between opening an upload and writing its id down leaves an upload
        nobody knows of; the key is the result's own, so after the end none can be in use.
        """
        try:
            strays = [u for u in self._store.open_uploads(prefix=key) if u.get("Key") == key]
        except StorageError as exc:
            log.warning("archive.sweep_failed", error=exc.message)
            return
        for upload in strays:
            self.abort(key, str(upload["UploadId"]))
