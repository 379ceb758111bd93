"""Rows for tests to start from, written through the repositories as the service writes them.

One place, so a test says what it needs ("a pending job with task task-1", "a queued
archive") rather than which queries make it, and a change to the schema changes one helper.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from receiver import clock
from receiver.lifecycle import JobStatus
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.database import Connection, Database
from receiver.store.jobs import Jobs
from receiver.store.records import Asset

__all__ = ["insert_job", "make_job", "queue_archive", "store_asset"]


def insert_job(
    conn: Connection,
    *,
    job_id: str | None = None,
    status: JobStatus = JobStatus.PENDING,
    provider: str = "evolink",
    model: str = "m",
    prompt: str = "p",
    params: Mapping[str, Any] | None = None,
) -> str:
    """A job row as ``receiver submit`` writes it before calling the provider; its id."""
    job_id = job_id or clock.new_id("job")
    Jobs(conn).insert(
        job_id,
        provider=provider,
        model=model,
        prompt=prompt,
        params=params or {},
        status=status,
        now=clock.now(),
    )
    return job_id


def make_job(db: Database, *, task_id: str | None = "task-1", **job: Any) -> str:
    """A submitted job (``pending``, the provider's ``task_id`` known), or with
    ``task_id=None`` one still ``submitting``: its create answer has not come back."""
    with db.transaction() as conn:
        job_id = insert_job(conn, status=JobStatus.SUBMITTING, **job)
        if task_id is not None:
            Jobs(conn).mark_submitted(
                job_id,
                task_id=task_id,
                provider_status="pending",
                estimated_seconds=1,
                credits_reserved=1.0,
                check_after=None,
                now=clock.now(),
            )
    return job_id


def queue_archive(
    conn: Connection,
    job_id: str,
    *,
    source_url: str = "https://cdn.example.com/v.mp4",
    link_lives: timedelta = timedelta(hours=24),
    confirm_first: bool = False,
) -> None:
    """A queued archive task for ``job_id``, as the intake enqueues it."""
    now = clock.now()
    ArchiveTasks(conn).enqueue(
        job_id,
        source_url=source_url,
        confirm_first=confirm_first,
        deadline_at=now + link_lives,
        now=clock.to_db(now),
    )


def store_asset(conn: Connection, job_id: str, *, bucket: str, size_bytes: int = 3) -> Asset:
    """The asset row an archive leaves behind (the object itself is not written)."""
    asset = Asset(
        job_id=job_id,
        bucket=bucket,
        object_key=f"videos/{job_id}.mp4",
        size_bytes=size_bytes,
        sha256="0" * 64,
        content_type="video/mp4",
        etag=None,
        stored_at=clock.now(),
        duration_seconds=5.0,
        width=1280,
        height=720,
        codec="h264",
    )
    ArchiveTasks(conn).insert_asset(asset)
    return asset
