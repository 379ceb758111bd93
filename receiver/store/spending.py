"""What jobs cost, summed (``sql/spending.sql``): for the daily budget
(:mod:`receiver.submission.budget`) and the spending report (:mod:`receiver.submission.cost`).

A job counts what the provider reserved for it, or our estimate until the provider says; a
submission the provider refused counts nothing; a job with neither is unpriced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from receiver import clock
from receiver.store.database import Connection, Row

__all__ = ["Spending", "SpendingLine"]


@dataclass(frozen=True, kw_only=True)
class SpendingLine:
    """The jobs of one model, or of one UTC day (``YYYY-MM-DD``)."""

    key: str
    jobs: int
    #: The credits of the priced jobs, unrounded.
    credits: float
    #: Jobs whose cost is still our estimate.
    estimated_jobs: int
    #: Jobs with neither reserved credits nor an estimate.
    unpriced_jobs: int

    @classmethod
    def from_row(cls, row: Row) -> SpendingLine:
        # PostgreSQL's SUM of no rows is NULL, and of integers a bigint or numeric.
        return cls(
            key=str(row["key"]),
            jobs=int(row["jobs"]),
            credits=float(row["credits"]),
            estimated_jobs=int(row["estimated_jobs"] or 0),
            unpriced_jobs=int(row["unpriced_jobs"] or 0),
        )


class Spending:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock(self) -> None:
        """Serialise budget checks until this transaction ends (SQLite's write lock does)."""
        self._conn.fetch_one("lock_budget")

    def job_credits_since(self, since: datetime) -> float:
        """The credits of the jobs created since ``since``, unrounded."""
        row = self._conn.fetch_one("credits_spent_since", since=clock.to_db(since))
        return _credits(row)

    def deleted_credits_since(self, since: datetime) -> float:
        """The credits of deleted jobs created since ``since`` (the audit keeps them)."""
        row = self._conn.fetch_one("deleted_credits_since", since=clock.to_db(since))
        return _credits(row)

    def by_model(self, since: datetime) -> list[SpendingLine]:
        rows = self._conn.fetch_all("costs_by_model", since=clock.to_db(since))
        return [SpendingLine.from_row(row) for row in rows]

    def by_day(self, since: datetime) -> list[SpendingLine]:
        rows = self._conn.fetch_all("costs_by_day", since=clock.to_db(since))
        return [SpendingLine.from_row(row) for row in rows]


def _credits(row: Row | None) -> float:
    return float(row["credits"]) if row is not None else 0.0
