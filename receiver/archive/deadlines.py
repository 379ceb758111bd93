"""The early warning for archives running out of time.

A video that is not stored when its link expires (:func:`receiver.deadlines.link_deadline`)
is lost for good (and paid for). Retries back off for as long as the deadline allows, so an
archive that keeps failing, or a queue that is too long, shows up here first: every
unfinished archive whose remaining margin falls below ``RECEIVER_DEADLINE_WARNING`` is
logged and counted, once per result of a job (the mark is set by a compare-and-set, so
several workers never warn twice about one result).
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from receiver import clock, metrics
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.database import Database

__all__ = ["warn_near_deadlines"]

log = structlog.get_logger(__name__)


def warn_near_deadlines(db: Database, threshold: float) -> int:
    """Warn about each unfinished archive with less than ``threshold`` seconds left."""
    now = clock.now()
    with db.reading() as conn:
        near = ArchiveTasks(conn).near_deadline(now + timedelta(seconds=threshold))
    warned = 0
    for task in near:
        with db.transaction() as conn:
            if not ArchiveTasks(conn).mark_deadline_warned(task.job_id, task.result_index, now=now):
                continue  # another worker warned first
        margin = (task.deadline_at - now).total_seconds()
        metrics.DEADLINE_WARNINGS.inc()
        log.warning(
            "archive.deadline_near",
            job_id=task.job_id,
            result_index=task.result_index,
            margin_seconds=round(margin),
            deadline_at=clock.to_db(task.deadline_at),
            state=task.state,
            attempts=task.attempts,
            last_error=task.last_error,
        )
        warned += 1
    return warned
