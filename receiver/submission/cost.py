"""What jobs cost: the estimate before submitting, and the spending report afterwards.

A job's cost is what the provider reserved for it (``usage.credits_reserved`` in its create
answer); until the provider says, it is our estimate from the documented price, recorded with
the job. A submission the provider refused costs nothing. A job with neither (a Kling model
that has no stand-in price, a job we did not submit) is *unpriced*: it is counted apart and
never shown as costing 0.

Prices are the providers': each model's record (:class:`~receiver.providers.ModelSpec`)
holds its price rule. Kling's own API bills in units of its resource packs, not in credits:
a ``kling-v3`` job there counts what EvoLink charges for the same model, so the daily budget
holds it; other Kling models have no such stand-in and stay unpriced
(:mod:`receiver.providers.kling_models`). Every other EvoLink model is priced by the rule of
its catalogue entry (:mod:`receiver.providers.evolink_catalogue`), or unpriced when the
reference gives none; a model the catalogue does not know is always unpriced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from receiver.context import Context
from receiver.providers import models_of
from receiver.providers.base import JobRequest
from receiver.providers.evolink_models import by_catalogue
from receiver.providers.evolink_protocol import catalogue_credits
from receiver.store.spending import Spending

__all__ = ["CostLine", "Grouping", "estimate_credits", "spending"]

Grouping = Literal["model", "day"]


def estimate_credits(provider: str, request: JobRequest) -> float | None:
    """Credits a validated request will cost by its model's price rule, or None when it has
    no price we can tell."""
    if request.model is None:
        raise ValueError("the request must be validated first (its model filled in)")
    if provider == "evolink" and by_catalogue(request.model):
        # The catalogue's price rule, on the body's fields; None for an unknown model.
        return catalogue_credits(request)
    model = models_of(provider).get(request.model)
    if model is None or model.price is None:
        return None
    return model.price.credits(duration=request.duration, quality=request.quality)


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
        spent = Spending(conn)
        lines = spent.by_model(since) if by == "model" else spent.by_day(since)
    return [
        CostLine(
            key=line.key,
            jobs=line.jobs,
            credits=round(line.credits, 2),
            estimated_jobs=line.estimated_jobs,
            unpriced_jobs=line.unpriced_jobs,
        )
        for line in lines
    ]
