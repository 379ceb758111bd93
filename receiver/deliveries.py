"""The raw delivery log as users see it: what reached the callback routes, and what came of it."""

from __future__ import annotations

from datetime import timedelta

from receiver import clock
from receiver.context import Context
from receiver.lifecycle import DeliveryOutcome
from receiver.store.database import Database
from receiver.store.records import Delivery

__all__ = ["list_deliveries", "purge_rejected"]


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


def purge_rejected(db: Database, retention: float) -> int:
    """Forget rejected deliveries older than ``retention`` seconds; how many went."""
    cutoff = clock.now() - timedelta(seconds=retention)
    with db.transaction() as conn:
        return conn.execute("purge_rejected_deliveries", before=clock.to_db(cutoff))
