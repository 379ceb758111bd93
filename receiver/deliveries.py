"""The raw delivery log as users see it: what reached the callback routes, and what came of it."""

from __future__ import annotations

from datetime import timedelta

import structlog

from receiver import clock
from receiver.context import Context
from receiver.lifecycle import DeliveryOutcome
from receiver.store.database import Database
from receiver.store.records import Delivery

__all__ = ["PURGE_BATCH", "list_deliveries", "purge_rejected"]

log = structlog.get_logger(__name__)

#: Rows deleted per transaction by a purge.
PURGE_BATCH = 1000


def list_deliveries(
    ctx: Context,
    *,
    job_id: str | None = None,
    outcome: str | None = None,
    since: timedelta | None = None,
    limit: int = 100,
) -> list[Delivery]:
    """Newest first. Raises ``ValueError`` for an outcome that does not exist."""
    if outcome is not None:
        DeliveryOutcome(outcome)
    start = clock.to_db(clock.now() - since) if since is not None else None
    with ctx.db.reading() as conn:
        rows = conn.fetch_all(
            "list_deliveries",
            job_id=job_id,
            outcome=outcome,
            task_id=None,
            since=start,
            limit=limit,
        )
    return [Delivery.from_row(row) for row in rows]


def purge_rejected(
    db: Database, retention: float, *, keep: int | None = None, batch: int = PURGE_BATCH
) -> int:
    """Forget rejected deliveries older than ``retention`` seconds, and all but the newest
    ``keep``; how many went.

    A batch per transaction, so a purge of millions never holds the write lock long enough
    to keep a callback waiting (docs/security.md has the measured hold); then the space is
    given back to the file system where the engine needs telling (SQLite).
    """
    before = clock.to_db(clock.now() - timedelta(seconds=retention))
    if keep is not None:
        with db.reading() as conn:
            row = conn.fetch_one("rejected_kept_from", keep=keep)
        if row is not None:
            # Everything received at or before the (keep+1)-th newest goes.
            before = max(before, _just_after(row["received_at"]))
    purged = 0
    while True:
        with db.transaction() as conn:
            gone = conn.execute("purge_rejected_deliveries", before=before, limit=batch)
        purged += gone
        if gone < batch:
            break
    if purged:
        db.reclaim_space()
        log.info("deliveries.purged", rejected=purged)
    return purged


def _just_after(timestamp: str) -> str:
    """The smallest stored timestamp after ``timestamp`` (they are fixed-width text)."""
    return clock.to_db(clock.from_db(timestamp) + timedelta(microseconds=1))
