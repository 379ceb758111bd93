"""Adopting a task submitted elsewhere: ``receiver import TASK_ID…``.

The provider is asked about the task (its task API, with our key), a job is made for it,
and the answer goes through the one intake every delivery takes (``source="import"``), in
the same transaction: a completed task's video is queued for archiving at once, while its
link lives; a task still running is followed by the watchdog like any job of ours; a failed
one is recorded as failed. Importing a task twice, or a task submitted through receiver,
finds its job and only hands it the provider's latest answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import structlog

from receiver import clock, events
from receiver.context import Context
from receiver.intake import IncomingDelivery, IntakeResult, ingest_in, log_result
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.jobs import Jobs

__all__ = ["Imported", "import_task"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class Imported:
    task_id: str
    job_id: str
    #: False when the task already had a job here.
    created: bool
    status: str
    provider_status: str
    #: When the video link dies, for a completed task whose video is queued for archiving.
    archive_deadline: str | None
    outcome: str


def import_task(ctx: Context, task_id: str, *, provider_name: str = "evolink") -> Imported:
    """Ask the provider about ``task_id`` and take it in; raises a
    :class:`~receiver.errors.ProviderError` (``ProviderNotFound`` for an unknown task)."""
    provider = ctx.provider(provider_name)
    provider.require_credentials()
    snapshot = provider.get_task(task_id)
    now = clock.now()
    created_at = snapshot.created_at if snapshot.created_at and snapshot.created_at <= now else now
    delivery = IncomingDelivery(
        provider=provider.name, body=json.dumps(dict(snapshot.raw)).encode(), source="import"
    )
    with ctx.db.transaction() as conn:
        jobs = Jobs(conn)
        created = jobs.import_task(
            clock.new_id("job"),
            provider=provider.name,
            model=snapshot.model or "unknown",
            prompt=f"(imported: task {snapshot.task_id})",
            # "external": an unbound callback URL may report on it (receiver callback-url).
            params={"external": True, "imported": True},
            task_id=snapshot.task_id,
            credits_reserved=snapshot.credits_reserved,
            created_at=created_at,
            now=now,
        )
        known = jobs.task_job(provider.name, snapshot.task_id)
        assert known is not None
        job_id = known.id
        if created:
            events.append(conn, job_id, "job.imported", task_id=snapshot.task_id)
        result: IntakeResult = ingest_in(conn, job_id, snapshot, delivery)
        job = jobs.get(job_id)
        queued = [t for t in ArchiveTasks(conn).for_job(job_id) if t.state == "queued"]
    log_result(result, delivery)
    assert job is not None
    log.info("job.imported", job_id=job_id, task_id=snapshot.task_id, created=created)
    return Imported(
        task_id=snapshot.task_id,
        job_id=job_id,
        created=created,
        status=job.status.value,
        provider_status=snapshot.raw_status,
        # The most urgent of its results' deadlines.
        archive_deadline=clock.to_db(min(t.deadline_at for t in queued)) if queued else None,
        outcome=result.outcome.value,
    )
