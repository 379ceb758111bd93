"""The jobs table (``sql/jobs.sql``): every read and write of a job's row.

Status changes are compare-and-sets on the status the caller read (``advance``,
``mark_stored``, ``delete_settled``...): they say whether they happened, and the caller
decides again on the news when they did not.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from receiver import clock
from receiver.lifecycle import JobStatus
from receiver.store.database import Connection, Row
from receiver.store.records import Asset, Job, Stamp

__all__ = ["FlaggedJob", "JobState", "JobWithAsset", "Jobs", "TaskJob"]

#: The asset columns list_jobs joins in, each as ``asset_<column>``.
_ASSET_COLUMNS = (
    "bucket",
    "object_key",
    "size_bytes",
    "sha256",
    "content_type",
    "etag",
    "stored_at",
    "duration_seconds",
    "width",
    "height",
    "codec",
)


@dataclass(frozen=True, slots=True)
class JobState:
    """The little of a job that a delivery is judged against (read on every callback)."""

    id: str
    status: JobStatus
    task_id: str | None


@dataclass(frozen=True, slots=True)
class TaskJob:
    """The job a provider's task belongs to, as a callback on an unbound URL needs it."""

    id: str
    #: Submitted elsewhere (adopted or imported): an unbound callback URL may report on it.
    external: bool


@dataclass(frozen=True, kw_only=True)
class JobWithAsset:
    job: Job
    asset: Asset | None


@dataclass(frozen=True, kw_only=True)
class FlaggedJob:
    """A job a person must look at, with its archive's state when that is why."""

    job: Job
    archive_state: str | None
    archive_error: str | None


def _db_time(moment: datetime | None) -> str | None:
    return clock.to_db(moment) if moment is not None else None


class Jobs:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ── reading ──

    def get(self, job_id: str) -> Job | None:
        row = self._conn.fetch_one("get_job", id=job_id)
        return Job.from_row(row) if row is not None else None

    def state(self, job_id: str) -> JobState | None:
        """Status and task id alone: what the intake reads on every delivery."""
        row = self._conn.fetch_one("get_job_state", id=job_id)
        if row is None:
            return None
        return JobState(row["id"], JobStatus(row["status"]), row["task_id"])

    def task_job(self, provider: str, task_id: str) -> TaskJob | None:
        """The job of ``provider``'s task ``task_id``, if it has one."""
        row = self._conn.fetch_one("get_job_by_task", provider=provider, task_id=task_id)
        if row is None:
            return None
        return TaskJob(row["id"], bool(json.loads(row["params"]).get("external")))

    def page(
        self,
        *,
        status: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        before: str | None = None,
        limit: int,
    ) -> list[JobWithAsset]:
        """Newest first, each with its stored video; ``before``: an exclusive id cursor."""
        rows = self._conn.fetch_all(
            "list_jobs",
            status=status,
            model=model,
            since=_db_time(since),
            before=before,
            limit=limit,
        )
        return [JobWithAsset(job=Job.from_row(row), asset=_joined_asset(row)) for row in rows]

    def count(
        self, *, status: str | None = None, model: str | None = None, since: datetime | None = None
    ) -> int:
        """How many jobs :meth:`page` shows with these filters, over all its pages."""
        row = self._conn.fetch_one("count_jobs", status=status, model=model, since=_db_time(since))
        return int(row["n"]) if row else 0

    def count_adoptions(self, adopted_via: str | None, *, since: datetime) -> int:
        row = self._conn.fetch_one(
            "count_adoptions", adopted_via=adopted_via, since=clock.to_db(since)
        )
        return int(row["n"]) if row else 0

    def due_for_check(self, *, now: datetime, first_due: datetime, limit: int) -> list[Job]:
        """Unfinished jobs whose callback is overdue, the most overdue first."""
        rows = self._conn.fetch_all(
            "due_for_check", now=clock.to_db(now), first_due=clock.to_db(first_due), limit=limit
        )
        return [Job.from_row(row) for row in rows]

    def running_submitted_before(self, before: datetime, *, limit: int) -> list[Job]:
        rows = self._conn.fetch_all(
            "running_jobs_submitted_before", before=clock.to_db(before), limit=limit
        )
        return [Job.from_row(row) for row in rows]

    def needs_attention(
        self, *, overdue_before: datetime, stuck_before: datetime, limit: int
    ) -> list[FlaggedJob]:
        rows = self._conn.fetch_all(
            "needs_attention",
            overdue_before=clock.to_db(overdue_before),
            stuck_before=clock.to_db(stuck_before),
            limit=limit,
        )
        return [
            FlaggedJob(
                job=Job.from_row(row),
                archive_state=row["archive_state"],
                archive_error=row["archive_error"],
            )
            for row in rows
        ]

    # ── creating ──

    def insert(
        self,
        job_id: str,
        *,
        provider: str,
        model: str,
        prompt: str,
        params: Mapping[str, Any],
        status: JobStatus,
        now: datetime,
    ) -> None:
        self._conn.execute(
            "insert_job",
            id=job_id,
            provider=provider,
            model=model,
            prompt=prompt,
            params=json.dumps(params),
            status=status,
            now=clock.to_db(now),
        )

    def adopt_external(
        self,
        job_id: str,
        *,
        provider: str,
        model: str,
        prompt: str,
        params: Mapping[str, Any],
        task_id: str,
        adopted_via: str | None,
        now: datetime,
    ) -> bool:
        """A job for a task first heard of through an unbound callback URL; False when the
        task has a job already (the unique (provider, task_id) index settles races)."""
        return bool(
            self._conn.execute(
                "adopt_external_job",
                id=job_id,
                provider=provider,
                model=model,
                prompt=prompt,
                params=json.dumps(params),
                task_id=task_id,
                now=clock.to_db(now),
                adopted_via=adopted_via,
            )
        )

    def import_task(
        self,
        job_id: str,
        *,
        provider: str,
        model: str,
        prompt: str,
        params: Mapping[str, Any],
        task_id: str,
        credits_reserved: float | None,
        created_at: datetime,
        now: datetime,
    ) -> bool:
        """A job for a task submitted elsewhere (``receiver import``); False when the task
        has a job already."""
        return bool(
            self._conn.execute(
                "import_job",
                id=job_id,
                provider=provider,
                model=model,
                prompt=prompt,
                params=json.dumps(params),
                task_id=task_id,
                credits_reserved=credits_reserved,
                created_at=clock.to_db(created_at),
                now=clock.to_db(now),
            )
        )

    # ── submission ──

    def set_credits_estimated(self, job_id: str, credits: float | None) -> None:
        """Our price for the job, until the provider says what it reserved."""
        self._conn.execute("set_job_credits_estimated", id=job_id, credits=credits)

    def mark_submitted(
        self,
        job_id: str,
        *,
        task_id: str,
        provider_status: str | None,
        estimated_seconds: int | None,
        credits_reserved: float | None,
        check_after: datetime | None,
        now: datetime,
    ) -> bool:
        return bool(
            self._conn.execute(
                "mark_job_submitted",
                id=job_id,
                task_id=task_id,
                provider_status=provider_status,
                estimated_seconds=estimated_seconds,
                credits_reserved=credits_reserved,
                check_after=_db_time(check_after),
                now=clock.to_db(now),
            )
        )

    def mark_submit_failed(
        self, job_id: str, *, error_code: str | None, error_message: str | None, now: datetime
    ) -> bool:
        """Only a job still ``submitting`` (a callback may have moved it on meanwhile)."""
        return bool(
            self._conn.execute(
                "mark_job_submit_failed",
                id=job_id,
                error_code=error_code,
                error_message=error_message,
                now=clock.to_db(now),
            )
        )

    # ── deliveries (the callback path: the times come as stored text, see Stamp) ──

    def set_task_id(self, job_id: str, task_id: str) -> bool:
        """Only where no task id was written (the submission's answer was lost)."""
        return bool(self._conn.execute("set_job_task_id", id=job_id, task_id=task_id))

    def advance(
        self,
        job_id: str,
        *,
        from_status: JobStatus,
        to: JobStatus,
        provider_status: str | None,
        progress: int | None,
        error_code: str | None,
        error_message: str | None,
        finished_at: Stamp | None,
        now: Stamp,
    ) -> bool:
        """Compare-and-set: False when the job is no longer ``from_status``."""
        return bool(
            self._conn.execute(
                "advance_job",
                id=job_id,
                to=to,
                provider_status=provider_status,
                progress=progress,
                error_code=error_code,
                error_message=error_message,
                finished_at=finished_at,
                now=now,
                **{"from": from_status},
            )
        )

    # ── follow-up ──

    def flag(self, job_id: str, attention: str, *, now: datetime) -> bool:
        """Put the job before a person (``receiver attention``), saying why."""
        return bool(
            self._conn.execute("flag_job", id=job_id, attention=attention, now=clock.to_db(now))
        )

    def postpone_check(self, job_id: str, *, check_after: datetime, now: datetime) -> bool:
        """The watchdog asks again at ``check_after``; one more attempt counted."""
        return bool(
            self._conn.execute(
                "postpone_check",
                id=job_id,
                check_after=clock.to_db(check_after),
                now=clock.to_db(now),
            )
        )

    def mark_stored(self, job_id: str, *, now: datetime) -> bool:
        """A completed job's video is in the bucket (clears its attention)."""
        return bool(self._conn.execute("mark_job_stored", id=job_id, now=clock.to_db(now)))

    def lock(self, job_id: str) -> None:
        """Hold the job's row until the transaction ends (PostgreSQL; SQLite has one writer
        at a time anyway): the archives of a job's results record their end in turn."""
        self._conn.fetch_one("lock_job", id=job_id)

    def set_result_data(self, job_id: str, result_data: str | None, *, now: Stamp) -> None:
        """Keep what the job's task returned that is no file (JSON text, or None)."""
        self._conn.execute("set_job_result_data", id=job_id, result_data=result_data, now=now)

    def mark_expired(self, job_id: str, attention: str, *, now: datetime) -> bool:
        """A completed job's video link died before it was stored."""
        return bool(
            self._conn.execute(
                "mark_job_expired", id=job_id, attention=attention, now=clock.to_db(now)
            )
        )

    def reopen_expired(self, job_id: str, *, now: datetime) -> bool:
        """An expired job is completed again, for its archive to be retried."""
        return bool(self._conn.execute("reopen_expired_job", id=job_id, now=clock.to_db(now)))

    def delete_settled(self, job_id: str, *, status: JobStatus) -> bool:
        """Delete the job's row, only if it is still ``status`` (its dependents first)."""
        return bool(self._conn.execute("delete_job_row", id=job_id, status=status))


def _joined_asset(row: Row) -> Asset | None:
    if row["asset_object_key"] is None:
        return None
    return Asset.from_row(
        {"job_id": row["id"], **{name: row[f"asset_{name}"] for name in _ASSET_COLUMNS}}
    )
