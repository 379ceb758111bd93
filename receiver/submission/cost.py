"""What jobs cost: the estimate before submitting, and the spending report afterwards.

A job's cost is what the provider reserved for it (``usage.credits_reserved`` in its create
answer); until the provider says, it is our estimate from the documented price, recorded with
the job. A submission the provider refused costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from receiver import clock
from receiver.context import Context
from receiver.providers import evolink_protocol
from receiver.providers.base import JobRequest

__all__ = ["CostLine", "Grouping", "estimate_credits", "spending"]

Grouping = Literal["model", "day"]

#: The price list of each provider whose prices are documented, by provider name.
_PRICES: Mapping[str, Callable[[JobRequest], float]] = {
    "evolink": evolink_protocol.credits_for,
}


def estimate_credits(provider: str, request: JobRequest) -> float | None:
    """Credits a validated request will cost, or None when the provider's price is unknown."""
    price = _PRICES.get(provider)
    return price(request) if price is not None else None


@dataclass(frozen=True, kw_only=True)
class CostLine:
    """Spending of one model or one day."""

    key: str
    jobs: int
    credits: float
    #: Jobs whose cost is still our estimate (the provider has not said what it reserved).
    estimated_jobs: int


def spending(ctx: Context, *, since: datetime, by: Grouping = "model") -> list[CostLine]:
    """Credits spent on jobs created since ``since``, by model or by (UTC) day."""
    with ctx.db.reading() as conn:
        rows = conn.fetch_all(f"costs_by_{by}", since=clock.to_db(since))
    return [
        CostLine(
            key=str(row["key"]),
            jobs=int(row["jobs"]),
            credits=round(float(row["credits"]), 2),
            estimated_jobs=int(row["estimated_jobs"] or 0),
        )
        for row in rows
    ]
