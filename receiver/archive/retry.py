"""``receiver retry JOB``: queue a failed or expired archive again.

The provider's link may be dead by now, so when we hold credentials the worker first asks
the provider for the task again (``confirm_first``) and downloads from the fresh answer.
"""

from __future__ import annotations

from datetime import timedelta

from receiver import clock, events
from receiver.archive.deadlines import LINK_LIFETIME
from receiver.context import Context
from receiver.errors import NotFoundError, ReceiverError

__all__ = ["NothingToRetry", "retry_archive"]


class NothingToRetry(ReceiverError):
    """The job's archive is not in a state that can be retried."""


def retry_archive(ctx: Context, job_id: str) -> None:
    provider_name = _provider_of(ctx, job_id)
    fresh_link = ctx.provider(provider_name).has_credentials
    now = clock.now()
    with ctx.db.transaction() as conn:
        task = conn.fetch_one("get_archive_task", job_id=job_id)
        if task is None:
            raise NothingToRetry(f"job {job_id} has no archive to retry (it never completed)")
        # A fresh link lives a day; an old one gets at least an hour for one more try.
        floor = LINK_LIFETIME if fresh_link else timedelta(hours=1)
        deadline = max(clock.from_db(task["deadline_at"]), now + floor)
        if not conn.execute(
            "reopen_archive",
            job_id=job_id,
            now=clock.to_db(now),
            deadline_at=clock.to_db(deadline),
            confirm_first=int(fresh_link),
        ):
            raise NothingToRetry(
                f"job {job_id}'s archive is {task['state']}; "
                "only failed or expired archives are retried"
            )
        conn.execute("reopen_expired_job", id=job_id, now=clock.to_db(now))
        events.append(conn, job_id, "archive.retried", fresh_link=fresh_link)


def _provider_of(ctx: Context, job_id: str) -> str:
    with ctx.db.reading() as conn:
        row = conn.fetch_one("get_job", id=job_id)
    if row is None:
        raise NotFoundError(f"no job {job_id!r}")
    return str(row["provider"])
