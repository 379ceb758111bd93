"""The archive tasks: the durable work queue of the archiver, its lease protocol and journal.

One row per result of a job's task in ``archive_tasks`` (``sql/archive_tasks.sql``), keyed
by (job id, result index), whatever the number of deliveries that ask for it; every step
below names the result it acts on. The lease protocol, every step a compare-and-set on the owner:

- :meth:`ArchiveTasks.claim` takes the most urgent ready task, or one whose lease lapsed,
  for ``lease`` (``FOR UPDATE SKIP LOCKED`` on PostgreSQL: claimants never queue on a row);
- while it works the owner keeps the lease alive (:meth:`~ArchiveTasks.renew`, and every
  journal step that changes the task): when the row is no longer its own they raise
  :class:`LeaseLost`, and the owner stops;
- the attempt ends with :meth:`~ArchiveTasks.finish`, :meth:`~ArchiveTasks.retry_later` or
  :meth:`~ArchiveTasks.release`, each False (nothing changed) when the lease lapsed and the
  task is someone else's: the new owner's outcome is the one that counts.

The journal (``upload_parts``) is what makes a killed worker's multipart upload resumable,
and the asset row is what the archiver leaves behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from receiver import clock
from receiver.errors import ReceiverError
from receiver.store.database import Connection
from receiver.store.records import ArchiveTask, Asset, Stamp

__all__ = ["ArchiveTasks", "JournaledPart", "LeaseLost", "NearDeadline", "QueueState"]


class LeaseLost(ReceiverError):
    """Another worker took over this task (our lease lapsed)."""


@dataclass(frozen=True, kw_only=True)
class JournaledPart:
    """A part of the task's multipart upload, written down once the store had it."""

    number: int
    etag: str
    size: int


@dataclass(frozen=True, kw_only=True)
class NearDeadline:
    """An unfinished archive whose link dies soon."""

    job_id: str
    result_index: int
    deadline_at: datetime
    state: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True, kw_only=True)
class QueueState:
    queued: int
    running: int
    #: The deadline of the most urgent unfinished archive (None: nothing is waiting).
    earliest_deadline: datetime | None


class ArchiveTasks:
    """The archive tasks, seen through one connection (its caller's transaction)."""

    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ── queueing ──

    def enqueue(
        self,
        job_id: str,
        result_index: int = 0,
        *,
        result_count: int = 1,
        media_kind: str = "video",
        extension: str = "mp4",
        source_url: str,
        confirm_first: bool,
        deadline_at: datetime,
        now: Stamp,
    ) -> bool:
        """Queue the archive of the job's result ``result_index`` (of ``result_count``);
        False when it has one already. (On the callback path: ``now`` comes formatted.)"""
        return bool(
            self._conn.execute(
                "enqueue_archive",
                job_id=job_id,
                result_index=result_index,
                result_count=result_count,
                media_kind=media_kind,
                extension=extension,
                source_url=source_url,
                confirm_first=int(confirm_first),
                now=now,
                deadline_at=clock.to_db(deadline_at),
            )
        )

    def requeue_failed(self, job_id: str, *, now: Stamp) -> bool:
        """Start the job's failed results again from their first attempt; False if none had
        failed. (On the callback path: ``now`` comes formatted.)"""
        return bool(self._conn.execute("requeue_failed_archive", job_id=job_id, now=now))

    def reopen(
        self, job_id: str, *, deadline_at: datetime, confirm_first: bool, now: datetime
    ) -> bool:
        """Queue the job's failed or expired results again; False if there is none."""
        return bool(
            self._conn.execute(
                "reopen_archive",
                job_id=job_id,
                now=clock.to_db(now),
                deadline_at=clock.to_db(deadline_at),
                confirm_first=int(confirm_first),
            )
        )

    def get(self, job_id: str, result_index: int = 0) -> ArchiveTask | None:
        """The archive task of the job's result ``result_index``."""
        row = self._conn.fetch_one("get_archive_task", job_id=job_id, result_index=result_index)
        return ArchiveTask.from_row(row) if row is not None else None

    def for_job(self, job_id: str) -> list[ArchiveTask]:
        """The job's archive tasks, one per result, in the results' order."""
        return [
            ArchiveTask.from_row(row)
            for row in self._conn.fetch_all("list_archive_tasks", job_id=job_id)
        ]

    def unstored_results(self, job_id: str) -> int:
        """How many of the job's results are not stored yet."""
        row = self._conn.fetch_one("count_unstored_results", job_id=job_id)
        assert row is not None  # an aggregate always has its row
        return int(row["n"])

    # ── the lease (each step on one result: ``job_id`` and ``index``) ──

    def claim(self, owner: str, *, lease_until: datetime, now: datetime) -> ArchiveTask | None:
        """The most urgent ready task (earliest deadline first), now ``owner``'s; counts an
        attempt."""
        row = self._conn.fetch_one(
            "claim_archive_task",
            owner=owner,
            lease_until=clock.to_db(lease_until),
            now=clock.to_db(now),
        )
        return ArchiveTask.from_row(row) if row is not None else None

    def renew(
        self, job_id: str, index: int, owner: str, *, lease_until: datetime, now: datetime
    ) -> None:
        """Keep ``owner``'s lease until ``lease_until``; :class:`LeaseLost` if it lapsed."""
        _held(
            self._conn.execute(
                "renew_archive_lease",
                job_id=job_id,
                result_index=index,
                owner=owner,
                lease_until=clock.to_db(lease_until),
                now=clock.to_db(now),
            )
        )

    def finish(
        self,
        job_id: str,
        index: int,
        owner: str,
        *,
        state: str,
        last_error: str | None,
        now: datetime,
    ) -> bool:
        """End the task in ``state`` (done, failed, expired); False if it is not ours."""
        return bool(
            self._conn.execute(
                "finish_archive_task",
                job_id=job_id,
                result_index=index,
                owner=owner,
                state=state,
                last_error=last_error,
                now=clock.to_db(now),
            )
        )

    def retry_later(
        self,
        job_id: str,
        index: int,
        owner: str,
        *,
        not_before: datetime,
        last_error: str,
        now: datetime,
    ) -> bool:
        """Queue the task again for ``not_before``; False if it is not ours."""
        return bool(
            self._conn.execute(
                "retry_archive_task",
                job_id=job_id,
                result_index=index,
                owner=owner,
                not_before=clock.to_db(not_before),
                last_error=last_error,
                now=clock.to_db(now),
            )
        )

    def release(self, job_id: str, index: int, owner: str, *, now: datetime) -> bool:
        """Hand the task back at once, the attempt not counted; False if it is not ours."""
        return bool(
            self._conn.execute(
                "release_archive_task",
                job_id=job_id,
                result_index=index,
                owner=owner,
                now=clock.to_db(now),
            )
        )

    def set_source(
        self, job_id: str, index: int, owner: str, *, source_url: str, now: datetime
    ) -> None:
        """Download from ``source_url`` (the provider confirmed it); :class:`LeaseLost`."""
        _held(
            self._conn.execute(
                "set_archive_source",
                job_id=job_id,
                result_index=index,
                owner=owner,
                source_url=source_url,
                now=clock.to_db(now),
            )
        )

    def set_upload(
        self,
        job_id: str,
        index: int,
        owner: str,
        *,
        upload_id: str,
        part_size: int,
        now: datetime,
    ) -> None:
        """Write down a new multipart upload, voiding the journal of any earlier one;
        :class:`LeaseLost`."""
        self.clear_journal(job_id, index)
        _held(
            self._conn.execute(
                "set_archive_upload",
                job_id=job_id,
                result_index=index,
                owner=owner,
                upload_id=upload_id,
                part_size=part_size,
                now=clock.to_db(now),
            )
        )

    def set_source_validator(
        self, job_id: str, index: int, owner: str, *, validator: str | None, now: datetime
    ) -> None:
        """Write down what identifies the file being uploaded; :class:`LeaseLost`."""
        _held(
            self._conn.execute(
                "set_source_validator",
                job_id=job_id,
                result_index=index,
                owner=owner,
                validator=validator,
                now=clock.to_db(now),
            )
        )

    def upload_if_owned(self, job_id: str, index: int, owner: str) -> str | None:
        """The task's open upload, read only while ``owner`` still holds the task."""
        task = self.get(job_id, index)
        if task is None or task.lease_owner != owner:
            return None
        return task.upload_id or None

    # ── the journal of parts ──

    def journal_part(self, job_id: str, index: int, part: JournaledPart) -> None:
        self._conn.execute(
            "journal_part",
            job_id=job_id,
            result_index=index,
            part_number=part.number,
            etag=part.etag,
            size_bytes=part.size,
        )

    def journaled_parts(self, job_id: str, index: int) -> list[JournaledPart]:
        """The parts written down, in order of their number."""
        return [
            JournaledPart(number=row["part_number"], etag=row["etag"], size=row["size_bytes"])
            for row in self._conn.fetch_all("journaled_parts", job_id=job_id, result_index=index)
        ]

    def clear_journal(self, job_id: str, index: int) -> None:
        self._conn.execute("clear_journal", job_id=job_id, result_index=index)

    # ── deadlines and the queue as a whole ──

    def near_deadline(self, horizon: datetime) -> list[NearDeadline]:
        """Unfinished archives not yet warned about whose deadline falls before ``horizon``."""
        return [
            NearDeadline(
                job_id=row["job_id"],
                result_index=row["result_index"],
                deadline_at=clock.from_db(row["deadline_at"]),
                state=row["state"],
                attempts=row["attempts"],
                last_error=row["last_error"],
            )
            for row in self._conn.fetch_all("archives_near_deadline", horizon=clock.to_db(horizon))
        ]

    def mark_deadline_warned(self, job_id: str, index: int, *, now: datetime) -> bool:
        """Mark the warning given; False if another worker gave it first."""
        return bool(
            self._conn.execute(
                "mark_deadline_warned", job_id=job_id, result_index=index, now=clock.to_db(now)
            )
        )

    def queue_state(self) -> QueueState:
        row = self._conn.fetch_one("archive_queue_state")
        assert row is not None  # an aggregate always has its row
        earliest = row["earliest_deadline"]
        return QueueState(
            queued=row["queued"] or 0,
            running=row["running"] or 0,
            earliest_deadline=clock.from_db(earliest) if earliest is not None else None,
        )

    def delete_for_job(self, job_id: str) -> int:
        """Forget the job's archives: their journals, then their tasks (``receiver delete``)."""
        self._conn.execute("delete_job_upload_parts", job_id=job_id)
        return self._conn.execute("delete_job_archive_task", job_id=job_id)

    # ── the assets the archives leave (read through :class:`~receiver.store.assets.Assets`) ──

    def insert_asset(self, asset: Asset) -> None:
        self._conn.execute(
            "insert_asset",
            job_id=asset.job_id,
            result_index=asset.result_index,
            bucket=asset.bucket,
            object_key=asset.object_key,
            size_bytes=asset.size_bytes,
            sha256=asset.sha256,
            content_type=asset.content_type,
            etag=asset.etag,
            now=clock.to_db(asset.stored_at),
            duration_seconds=asset.duration_seconds,
            width=asset.width,
            height=asset.height,
            codec=asset.codec,
        )


def _held(changed: int) -> None:
    if not changed:
        raise LeaseLost()
