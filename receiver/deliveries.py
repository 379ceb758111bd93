"""The raw delivery log as users see it: what reached the callback routes, and what came of it."""

from __future__ import annotations

from datetime import timedelta

import structlog

from receiver import clock
from receiver.context import Context
from receiver.errors import NotFoundError
from receiver.lifecycle import DeliveryOutcome
from receiver.store.database import Database
from receiver.store.deliveries import Deliveries, StoredDelivery
from receiver.store.records import Delivery

__all__ = ["PURGE_BATCH", "StoredDelivery", "get_delivery", "list_deliveries", "purge_rejected"]

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
    wanted = DeliveryOutcome(outcome) if outcome is not None else None
    start = clock.now() - since if since is not None else None
    with ctx.db.reading() as conn:
        return Deliveries(conn).newest(job_id=job_id, outcome=wanted, since=start, limit=limit)


def get_delivery(ctx: Context, delivery_id: str) -> StoredDelivery:
    with ctx.db.reading() as conn:
        stored = Deliveries(conn).get(delivery_id)
    if stored is None:
        raise NotFoundError(f"no delivery {delivery_id!r}")
    return stored


def purge_rejected(
    db: Database, retention: float, *, keep: int | None = None, batch: int = PURGE_BATCH
) -> int:
    """Forget rejected deliveries older than ``retention`` seconds, and all but the newest
    ``keep``; how many went.

    A batch per transaction, so a purge of millions never holds the write lock long enough
    to keep a callback waiting (docs/security.md has the measured hold); then the space is
    given back to the file system where the engine needs telling (SQLite).
    """
    before = clock.now() - timedelta(seconds=retention)
    if keep is not None:
        with db.reading() as conn:
            kept_from = Deliveries(conn).rejected_kept_from(keep)
        if kept_from is not None:
            # Everything received at or before the (keep+1)-th newest goes (times are
            # stored to the microsecond).
            before = max(before, kept_from + timedelta(microseconds=1))
    purged = 0
    while True:
        with db.transaction() as conn:
            gone = Deliveries(conn).purge_rejected(before=before, limit=batch)
        purged += gone
        if gone < batch:
            break
    if purged:
        db.reclaim_space()
        log.info("deliveries.purged", rejected=purged)
    return purged
