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
from dataclasses import asdict, dataclass
from datetime import datetime

import structlog

from receiver import clock
from receiver.context import Context
from receiver.errors import NotFoundError, ReceiverError
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.assets import Assets
from receiver.store.database import Connection
from receiver.store.deletions import Deletion, Deletions
from receiver.store.deliveries import Deliveries
from receiver.store.events import Events
from receiver.store.jobs import Jobs
from receiver.store.notifications import Notifications
from receiver.store.records import Asset, Job

__all__ = ["Deleted", "JobNotSettled", "delete_job", "list_deletions", "operator"]

log = structlog.get_logger(__name__)


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
        job = Jobs(conn).get(job_id)
        assets = Assets(conn).for_job(job_id)
        gone = Deletions(conn).get(job_id) if job is None else None
    if job is None:
        if gone is not None:
            raise NotFoundError(
                f"job {job_id} was deleted already, at {clock.to_db(gone.deleted_at)} "
                f"by {gone.deleted_by}"
            )
        raise NotFoundError(f"no job {job_id!r}")
    status = job.status
    if not status.is_final:
        raise JobNotSettled(job_id, status.value)
    # Every file of the job goes (the audit names the first, as it named the only one).
    asset = assets[0] if assets else None
    uri = asset.uri if asset is not None else None
    for stored in assets:
        if stored.bucket != ctx.store.bucket:
            raise ReceiverError(
                f"job {job_id}'s video is in bucket {stored.bucket!r}, and this receiver "
                f"uses {ctx.store.bucket!r} (RECEIVER_S3_BUCKET): delete it with that setting"
            )
    for stored in assets:
        ctx.store.delete(stored.object_key)
    with ctx.db.transaction() as conn:
        _delete_dependents(conn, job_id)
        if not Jobs(conn).delete_settled(job_id, status=status):
            # Rolled back: `receiver retry` reopened it, say. Its video is gone already;
            # an archive that runs again stores it again.
            raise ReceiverError(f"job {job_id} changed while it was being deleted; try again")
        Deletions(conn).insert(_audit(job, asset, by=by, reason=reason, at=clock.now()))
    log.info("job.deleted", job_id=job_id, status=status, object=uri, by=by, reason=reason)
    return Deleted(job_id=job_id, status=status.value, object_uri=uri)


def _delete_dependents(conn: Connection, job_id: str) -> None:
    """The job's rows in other tables, before the job's own row (foreign keys)."""
    Notifications(conn).delete_for_job(job_id)
    Events(conn).delete_for_job(job_id)
    Deliveries(conn).delete_for_job(job_id)
    ArchiveTasks(conn).delete_for_job(job_id)
    Assets(conn).delete_for_job(job_id)


def _audit(job: Job, asset: Asset | None, *, by: str, reason: str | None, at: datetime) -> Deletion:
    return Deletion(
        job_id=job.id,
        provider=job.provider,
        task_id=job.task_id,
        model=job.model,
        status=job.status.value,
        credits=job.credits_reserved if job.credits_reserved is not None else job.credits_estimated,
        job_created_at=job.created_at,
        object_uri=asset.uri if asset else None,
        size_bytes=asset.size_bytes if asset else None,
        sha256=asset.sha256 if asset else None,
        deleted_by=by,
        reason=reason,
        deleted_at=at,
    )


def list_deletions(ctx: Context, *, limit: int = 100) -> list[dict[str, object]]:
    """The audit of deletions, newest first, as the table has them (times as stored)."""
    with ctx.db.reading() as conn:
        found = Deletions(conn).newest(limit=limit)
    return [
        {
            **asdict(deletion),
            "job_created_at": clock.to_db(deletion.job_created_at),
            "deleted_at": clock.to_db(deletion.deleted_at),
        }
        for deletion in found
    ]
