"""``receiver retry JOB``: queue a failed or expired archive again.

The provider's link may be dead by now, so when we hold credentials the worker first asks
the provider for the task again (``confirm_first``) and downloads from the fresh answer.
"""

from __future__ import annotations

from datetime import timedelta

from receiver import clock, events
from receiver.context import Context
from receiver.deadlines import LINK_LIFETIME
from receiver.errors import NotFoundError, ReceiverError
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.jobs import Jobs

__all__ = ["NothingToRetry", "retry_archive"]


class NothingToRetry(ReceiverError):
    """The job's archive is not in a state that can be retried."""


def retry_archive(ctx: Context, job_id: str) -> None:
    provider_name = _provider_of(ctx, job_id)
    fresh_link = ctx.provider(provider_name).has_credentials
    now = clock.now()
    with ctx.db.transaction() as conn:
        tasks = ArchiveTasks(conn)
        results = tasks.for_job(job_id)
        if not results:
            raise NothingToRetry(f"job {job_id} has no archive to retry (it never completed)")
        # A fresh link lives a day; an old one gets at least an hour for one more try.
        floor = LINK_LIFETIME if fresh_link else timedelta(hours=1)
        deadline = max(*(task.deadline_at for task in results), now + floor)
        # Every failed or expired result of the job goes again; the stored ones stay.
        if not tasks.reopen(job_id, deadline_at=deadline, confirm_first=fresh_link, now=now):
            states = ", ".join(sorted({task.state for task in results}))
            raise NothingToRetry(
                f"job {job_id}'s archive is {states}; only failed or expired archives are retried"
            )
        Jobs(conn).reopen_expired(job_id, now=now)
        events.append(conn, job_id, "archive.retried", fresh_link=fresh_link)


def _provider_of(ctx: Context, job_id: str) -> str:
    with ctx.db.reading() as conn:
        job = Jobs(conn).get(job_id)
    if job is None:
        raise NotFoundError(f"no job {job_id!r}")
    return job.provider
