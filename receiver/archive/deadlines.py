"""The early warning for archives running out of time before the provider's link dies.

A video that is not stored when its link expires is lost for good (and paid for). Retries
back off for as long as the deadline allows, so an archive that keeps failing, or a queue
that is too long, shows up here first: every unfinished archive whose remaining margin falls
below ``RECEIVER_DEADLINE_WARNING`` is logged and counted, once per job (the mark is set by
a compare-and-set, so several workers never warn twice about one job).
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from receiver import clock, metrics
from receiver.store.database import Database

__all__ = ["warn_near_deadlines"]

log = structlog.get_logger(__name__)


def warn_near_deadlines(db: Database, threshold: float) -> int:
    """Warn about each unfinished archive with less than ``threshold`` seconds left."""
    now = clock.now()
    with db.reading() as conn:
        rows = conn.fetch_all(
            "archives_near_deadline", horizon=clock.to_db(now + timedelta(seconds=threshold))
        )
    warned = 0
    for row in rows:
        with db.transaction() as conn:
            if not conn.execute("mark_deadline_warned", job_id=row["job_id"], now=clock.to_db(now)):
                continue  # another worker warned first
        margin = (clock.from_db(row["deadline_at"]) - now).total_seconds()
        metrics.DEADLINE_WARNINGS.inc()
        log.warning(
            "archive.deadline_near",
            job_id=row["job_id"],
            margin_seconds=round(margin),
            deadline_at=row["deadline_at"],
            state=row["state"],
            attempts=row["attempts"],
            last_error=row["last_error"],
        )
        warned += 1
    return warned
