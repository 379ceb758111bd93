"""The daily budget: ``RECEIVER_MAX_CREDITS_PER_DAY`` credits per UTC day, checked per job.

The check and the new job's row share one write transaction, serialised by
:meth:`~receiver.store.spending.Spending.lock` (SQLite's write lock; an advisory lock on
PostgreSQL), so submissions racing each other cannot together spend past the limit.

A job without a price (see :mod:`receiver.submission.cost`) is refused while a budget is set:
a limit that silently let some jobs through would be worse than none.

A batch is held to the budget row by row in file order *before* anything is sent
(:func:`allot`), as if its rows were submitted one at a time: so which rows fit does not
depend on which thread is faster, and a dry run names the very rows the real run refuses.

Deleted jobs (``receiver delete``, the video retention) still count: their credits are kept
in the audit of deletions, so deleting never frees budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from receiver import clock
from receiver.errors import ReceiverError
from receiver.store.database import Connection, Database
from receiver.store.spending import Spending

__all__ = [
    "BudgetExceeded",
    "BudgetState",
    "BudgetUnpriced",
    "allot",
    "budget_today",
    "check_budget",
    "day_start",
    "judge",
    "spent_today",
]


class BudgetExceeded(ReceiverError):
    """The daily credit budget would be exceeded."""

    def __init__(self, *, limit: float, spent: float, cost: float) -> None:
        self.limit, self.spent, self.cost = limit, spent, cost
        super().__init__(
            f"this job would cost {cost:g} credits, and {spent:g} of today's "
            f"{limit:g} (RECEIVER_MAX_CREDITS_PER_DAY) are spent; "
            f"{max(0.0, limit - spent):g} remain until 00:00 UTC"
        )


class BudgetUnpriced(ReceiverError):
    """A job without a price cannot be held to the daily credit budget."""

    def __init__(self, *, limit: float, what: str = "this job") -> None:
        self.limit = limit
        super().__init__(
            f"{what} has no price in credits, so RECEIVER_MAX_CREDITS_PER_DAY ({limit:g}) "
            "cannot count it; while the budget is set, such jobs are refused (on Kling, "
            "kling-v3 has a price: EvoLink's for the same model)"
        )


def day_start(moment: datetime) -> datetime:
    """Midnight UTC of ``moment``'s day: when the day's budget starts."""
    return moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def spent_today(conn: Connection) -> float:
    since = day_start(clock.now())
    spending = Spending(conn)
    return round(spending.job_credits_since(since) + spending.deleted_credits_since(since), 2)


@dataclass(frozen=True, kw_only=True)
class BudgetState:
    limit: float
    spent_today: float

    @property
    def remaining(self) -> float:
        return round(max(0.0, self.limit - self.spent_today), 2)

    def fits(self, cost: float | None) -> bool:
        """Whether ``cost`` fits in what is left today; a job without a price never does."""
        return cost is not None and round(cost * 100) <= round(self.remaining * 100)

    def as_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "spent_today": self.spent_today, "remaining": self.remaining}


def budget_today(db: Database, limit: float | None) -> BudgetState | None:
    """Where today's budget stands, or None when there is no budget."""
    if limit is None:
        return None
    with db.reading() as conn:
        return BudgetState(limit=limit, spent_today=spent_today(conn))


def check_budget(
    conn: Connection, *, limit: float | None, cost: float | None, what: str = "this job"
) -> None:
    """Raise :class:`BudgetExceeded` when ``cost`` does not fit in what is left of today,
    :class:`BudgetUnpriced` when there is a budget and the job has no price.

    Call inside the write transaction that records the job.
    """
    if limit is None:
        return
    if cost is None:
        raise BudgetUnpriced(limit=limit, what=what)
    Spending(conn).lock()
    judge(limit=limit, spent=spent_today(conn), cost=cost)


def allot(budget: BudgetState | None, costs: Sequence[float | None]) -> list[str | None]:
    """Hold a batch's rows to the budget in file order: for each cost, None when it fits
    (its credits are then held for it), or why it is refused.

    A row that does not fit holds nothing, so a cheaper row after it may still fit: the
    same as submitting the rows one by one.
    """
    if budget is None:
        return [None] * len(costs)
    held = 0.0
    verdicts: list[str | None] = []
    for cost in costs:
        if cost is None:
            verdicts.append(BudgetUnpriced(limit=budget.limit).message)
            continue
        left = round(budget.limit - budget.spent_today - held, 2)
        if round(cost * 100) <= round(left * 100):
            held = round(held + cost, 2)
            verdicts.append(None)
            continue
        verdicts.append(
            f"this job would cost {cost:g} credits; of today's {budget.limit:g} "
            f"(RECEIVER_MAX_CREDITS_PER_DAY), {budget.spent_today:g} are spent and "
            f"{held:g} go to the rows above it in this batch, so {max(0.0, left):g} remain"
        )
    return verdicts


def judge(*, limit: float, spent: float, cost: float) -> None:
    """Raise :class:`BudgetExceeded` unless ``cost`` fits in ``limit`` with ``spent`` gone."""
    # Cents, so that 36 + 36 + 28.8 against a limit of 100.8 is not lost to rounding.
    if round((spent + cost) * 100) > round(limit * 100):
        raise BudgetExceeded(limit=limit, spent=spent, cost=cost)
