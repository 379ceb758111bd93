"""Deleting jobs: the stored video, then every row of the job, with an audit row that stays.

``receiver delete JOB…`` and the video retention (:mod:`receiver.retention`) both come here.
Only a job whose fate is settled may go (stored, failed, cancelled, expired, submit_failed):
a running job's callback, or its archive, would otherwise come back to nothing.

The object goes first, the rows after: if the rows cannot be deleted (the database is
down, or the job moved on meanwhile), the job is still listed and ``delete`` can simply be
run again (deleting an object that is gone succeeds). The other order could leave a video
in the bucket that no row names. The rows, and the audit row in ``deletions`` (who, when,
why, what the video was, what the job cost), are one transaction: the job's events go with
it, so the audit lives in its own table, and its credits keep counting against the day's
budget (:func:`receiver.submission.budget.spent_today`).
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass

import structlog

from receiver import clock
from receiver.bucket import delete_object
from receiver.context import Context
from receiver.errors import NotFoundError, ReceiverError
from receiver.lifecycle import JobStatus
from receiver.store.database import Row

__all__ = ["Deleted", "JobNotSettled", "delete_job", "list_deletions", "operator"]

log = structlog.get_logger(__name__)

#: A job's rows in other tables, deleted before the job's own row (foreign keys).
_DEPENDENTS = (
    "delete_job_outbox",
    "delete_job_notifications",
    "delete_job_events",
    "delete_job_deliveries",
    "delete_job_upload_parts",
    "delete_job_archive_task",
    "delete_job_asset",
)


class JobNotSettled(ReceiverError):
    """The job is still running: it cannot be deleted yet."""

    def __init__(self, job_id: str, status: str) -> None:
        super().__init__(
            f"job {job_id} is {status}: only a settled job (stored, failed, cancelled, "
            "expired, submit_failed) can be deleted; wait for it, or run it out first"
        )


@dataclass(frozen=True, kw_only=True)
class Deleted:
    job_id: str
    status: str
    #: The video that was deleted, if the job had one.
    object_uri: str | None


def operator() -> str:
    """Who runs this command, for the audit: ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container's)
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def delete_job(ctx: Context, job_id: str, *, by: str, reason: str | None = None) -> Deleted:
    """Delete job ``job_id``'s video and rows; raises :class:`~receiver.errors.NotFoundError`
    (naming an earlier deletion, if there was one) or :class:`JobNotSettled`."""
    with ctx.db.reading() as conn:
        row = conn.fetch_one("get_job", id=job_id)
        asset = conn.fetch_one("get_asset", job_id=job_id)
        gone = conn.fetch_one("get_deletion", job_id=job_id) if row is None else None
    if row is None:
        if gone is not None:
            raise NotFoundError(
                f"job {job_id} was deleted already, at {gone['deleted_at']} by {gone['deleted_by']}"
            )
        raise NotFoundError(f"no job {job_id!r}")
    status = JobStatus(row["status"])
    if not status.is_final:
        raise JobNotSettled(job_id, status.value)
    uri = None
    if asset is not None:
        uri = f"s3://{asset['bucket']}/{asset['object_key']}"
        if asset["bucket"] != ctx.store.bucket:
            raise ReceiverError(
                f"job {job_id}'s video is in bucket {asset['bucket']!r}, and this receiver "
                f"uses {ctx.store.bucket!r} (RECEIVER_S3_BUCKET): delete it with that setting"
            )
        delete_object(ctx.store, asset["object_key"])
    with ctx.db.transaction() as conn:
        for query in _DEPENDENTS:
            conn.execute(query, job_id=job_id)
        if not conn.execute("delete_job_row", id=job_id, status=status):
            # Rolled back: `receiver retry` reopened it, say. Its video is gone already;
            # an archive that runs again stores it again.
            raise ReceiverError(f"job {job_id} changed while it was being deleted; try again")
        conn.execute(
            "insert_deletion",
            **_audit(row, asset),
            deleted_by=by,
            reason=reason,
            now=clock.to_db(clock.now()),
        )
    log.info("job.deleted", job_id=job_id, status=status, object=uri, by=by, reason=reason)
    return Deleted(job_id=job_id, status=status.value, object_uri=uri)


def _audit(job: Row, asset: Row | None) -> dict[str, object]:
    credits = job["credits_reserved"]
    if credits is None:
        credits = job["credits_estimated"]
    return {
        "job_id": job["id"],
        "provider": job["provider"],
        "task_id": job["task_id"],
        "model": job["model"],
        "status": job["status"],
        "credits": credits,
        "job_created_at": job["created_at"],
        "object_uri": f"s3://{asset['bucket']}/{asset['object_key']}" if asset else None,
        "size_bytes": asset["size_bytes"] if asset else None,
        "sha256": asset["sha256"] if asset else None,
    }


def list_deletions(ctx: Context, *, limit: int = 100) -> list[dict[str, object]]:
    """The audit of deletions, newest first."""
    with ctx.db.reading() as conn:
        return [dict(row) for row in conn.fetch_all("list_deletions", limit=limit)]
