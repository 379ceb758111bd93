"""Replaying stored deliveries through the same intake as a live callback.

A delivery that failed (rejected while naming a job, or whose job's archive failed after
it) can be run again once the cause is fixed: the stored raw body goes through
:func:`receiver.intake.ingest` with ``source="replay"``. Replaying what was already
processed changes nothing (the state machine calls it a duplicate), except that a completed
job whose archive had given up gets its archive queued again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import structlog

from receiver import clock
from receiver.context import Context
from receiver.errors import NotFoundError
from receiver.intake import IncomingDelivery, ingest
from receiver.lifecycle import DeliveryOutcome
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.deliveries import Deliveries
from receiver.store.records import ArchiveTask, Delivery

__all__ = ["ReplayResult", "ReplaySummary", "failed_delivery_ids", "replay", "replay_many"]

log = structlog.get_logger(__name__)

_PAGE = 500


@dataclass(frozen=True, kw_only=True)
class ReplayResult:
    delivery_id: str
    job_id: str | None
    #: replayed (it changed something), already_done, or still_failing
    verdict: str
    reason: str | None = None


@dataclass
class ReplaySummary:
    results: list[ReplayResult] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        return sum(1 for result in self.results if result.verdict == verdict)

    @property
    def failures(self) -> list[ReplayResult]:
        return [result for result in self.results if result.verdict == "still_failing"]


def replay(ctx: Context, delivery_id: str) -> ReplayResult:
    """Run stored delivery ``delivery_id`` through the intake again."""
    with ctx.db.reading() as conn:
        stored = Deliveries(conn).get(delivery_id)
        archive_state = (
            _archive_state(ArchiveTasks(conn).for_job(stored.delivery.job_id))
            if stored and stored.delivery.job_id
            else None
        )
    if stored is None:
        raise NotFoundError(f"no delivery {delivery_id!r}")
    job_id = stored.delivery.job_id
    if job_id is None:
        return ReplayResult(
            delivery_id=delivery_id,
            job_id=None,
            verdict="still_failing",
            reason="the delivery names no job (its token was not ours)",
        )
    provider = ctx.provider(stored.delivery.provider)
    body = stored.body
    if not stored.body_complete:
        return ReplayResult(
            delivery_id=delivery_id,
            job_id=job_id,
            verdict="still_failing",
            reason="only part of the body was kept; it cannot be replayed",
        )
    try:
        snapshot = provider.parse_callback(body)
    except ValueError as exc:
        return ReplayResult(
            delivery_id=delivery_id,
            job_id=job_id,
            verdict="still_failing",
            reason=f"malformed body: {exc}",
        )
    result = ingest(
        ctx.db,
        job_id,
        snapshot,
        IncomingDelivery(provider=stored.delivery.provider, body=body, source="replay"),
        confirm=ctx.settings.confirm_with_provider,
    )
    requeued = archive_state == "failed" and _archive_state_now(ctx, job_id) == "queued"
    if result.outcome == DeliveryOutcome.REJECTED:
        verdict = "still_failing"
    elif result.outcome == DeliveryOutcome.ACCEPTED or requeued:
        verdict = "replayed"
    else:
        verdict = "already_done"
    log.info("replay.done", delivery_id=delivery_id, job_id=job_id, verdict=verdict)
    return ReplayResult(
        delivery_id=delivery_id, job_id=job_id, verdict=verdict, reason=result.reason
    )


def failed_delivery_ids(
    ctx: Context, *, since: timedelta | None = None, job_id: str | None = None
) -> Iterator[str]:
    """Every delivery ``replay --failed`` covers, all pages of them, oldest first."""
    start = clock.now() - since if since is not None else None
    after: Delivery | None = None
    while True:
        with ctx.db.reading() as conn:
            page = Deliveries(conn).failed(job_id=job_id, since=start, after=after, limit=_PAGE)
        for delivery in page:
            yield delivery.id
        if len(page) < _PAGE:
            return
        after = page[-1]


def replay_many(
    ctx: Context,
    delivery_ids: list[str],
    *,
    on_result: Callable[[ReplayResult], None] | None = None,
) -> ReplaySummary:
    summary = ReplaySummary()
    for delivery_id in delivery_ids:
        try:
            result = replay(ctx, delivery_id)
        except NotFoundError as exc:
            result = ReplayResult(
                delivery_id=delivery_id, job_id=None, verdict="still_failing", reason=exc.message
            )
        summary.results.append(result)
        if on_result:
            on_result(result)
    return summary


def _archive_state(tasks: list[ArchiveTask]) -> str | None:
    """The state of a job's archive, one task per result: failed if any result failed, else
    queued if any is queued, else its first result's (None: it has none)."""
    states = [task.state for task in tasks]
    for state in ("failed", "queued"):
        if state in states:
            return state
    return states[0] if states else None


def _archive_state_now(ctx: Context, job_id: str) -> str | None:
    with ctx.db.reading() as conn:
        return _archive_state(ArchiveTasks(conn).for_job(job_id))
