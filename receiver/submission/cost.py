"""What jobs cost: the estimate before submitting, and the spending report afterwards.

A job's cost is what the provider reserved for it (``usage.credits_reserved`` in its create
answer); until the provider says, it is our estimate from the documented price, recorded with
the job. A submission the provider refused costs nothing. A job with neither (a Kling model
that has no stand-in price, a job we did not submit) is *unpriced*: it is counted apart and
never shown as costing 0.

Kling's own API bills in units of its resource packs, not in credits. A ``kling-v3`` job
there is priced at what EvoLink charges for the same model (``kling-v3-text-to-video`` or
``-image-to-video``: 7.2 credits a second at 720p, the upper bound EvoLink's pages allow), so
the daily budget holds it; other Kling models have no such stand-in and stay unpriced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from receiver import clock
from receiver.context import Context
from receiver.providers import evolink_protocol
from receiver.providers.base import JobRequest

__all__ = ["CostLine", "Grouping", "estimate_credits", "spending"]

Grouping = Literal["model", "day"]

#: Kling model -> EvoLink's model of the same name, whose price stands in for Kling's units.
KLING_STAND_INS: Mapping[str, tuple[str, str]] = {
    # (text-to-video, image-to-video)
    "kling-v3": ("kling-v3-text-to-video", "kling-v3-image-to-video"),
}


def _kling_credits(request: JobRequest) -> float | None:
    twins = KLING_STAND_INS.get(request.model or "")
    if twins is None:
        return None
    twin = twins[1] if request.image_url else twins[0]
    return evolink_protocol.credits_for(dataclasses.replace(request, model=twin))


#: The price list of each provider, by provider name.
_PRICES: Mapping[str, Callable[[JobRequest], float | None]] = {
    "evolink": evolink_protocol.credits_for,
    "kling": _kling_credits,
}


def estimate_credits(provider: str, request: JobRequest) -> float | None:
    """Credits a validated request will cost, or None when it has no price we can tell."""
    price = _PRICES.get(provider)
    return price(request) if price is not None else None


@dataclass(frozen=True, kw_only=True)
class CostLine:
    """Spending of one model or one day."""

    key: str
    jobs: int
    #: The credits of the priced jobs; unpriced ones are not in it.
    credits: float
    #: Jobs whose cost is still our estimate (the provider has not said what it reserved).
    estimated_jobs: int
    #: Jobs with no price at all: neither reserved credits nor an estimate.
    unpriced_jobs: int = 0

    @property
    def priced(self) -> bool:
        """Whether any job of the line has a price (else its credits are unknown, not 0)."""
        return self.unpriced_jobs < self.jobs

    def as_json(self, by: Grouping) -> dict[str, Any]:
        """The line as JSON; ``credits`` is null when none of its jobs has a price."""
        return {
            by: self.key,
            "jobs": self.jobs,
            "credits": self.credits if self.priced else None,
            "estimated_jobs": self.estimated_jobs,
            "unpriced_jobs": self.unpriced_jobs,
        }


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
            unpriced_jobs=int(row["unpriced_jobs"] or 0),
        )
        for row in rows
    ]
