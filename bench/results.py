"""What a scenario hands back, and the few statistics scenarios compute.

A scenario measures a *subject* (receiver) and a named *baseline* side by side in the same
run, and reports rows of figures for both, ratios against targets, checks of correctness,
and notes on anything that limits what the figures mean. The report lays these out; it does
not know what any scenario measures.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Check", "Figure", "Latency", "Ratio", "ScenarioResult", "ms", "percentile"]


@dataclass(frozen=True, kw_only=True)
class Figure:
    """One row of the side-by-side table, values already formatted."""

    label: str
    baseline: str
    subject: str


@dataclass(frozen=True, kw_only=True)
class Ratio:
    """A headline figure and the target it is held against."""

    label: str
    value: str
    target: str
    met: bool


@dataclass(frozen=True, kw_only=True)
class Check:
    """Something that must hold whatever the timings (e.g. nothing acknowledged was lost)."""

    label: str
    ok: bool
    detail: str


@dataclass(frozen=True, kw_only=True)
class ScenarioResult:
    name: str
    title: str
    #: How it was measured, one paragraph.
    method: str
    baseline: str
    subject: str
    figures: Sequence[Figure]
    ratios: Sequence[Ratio]
    checks: Sequence[Check]
    #: Honest caveats: anything that limits what the figures mean.
    notes: Sequence[str]
    seconds: float


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty sequence."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, kw_only=True)
class Latency:
    """Milliseconds: median, 99th percentile and maximum.

    Requests that got no answer count as infinitely slow rather than being left out, so a
    server that drops a tenth of its requests cannot show a fine p99.
    """

    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Iterable[float | None], *, unanswered: int = 0) -> Latency | None:
        ordered = sorted(value for value in values if value is not None)
        ordered += [math.inf] * unanswered
        if not ordered:
            return None
        return cls(
            count=len(ordered),
            p50=percentile(ordered, 0.50),
            p99=percentile(ordered, 0.99),
            max=ordered[-1],
        )

    def __str__(self) -> str:
        return f"{ms(self.p50)} / {ms(self.p99)} / {ms(self.max)}"


def ms(value: float) -> str:
    """Milliseconds with sensible precision: 0.62, 4.8, 37, 1,204; no answer is "timeout"."""
    if math.isinf(value):
        return "timeout"
    if value < 1:
        return f"{value:.2f}"
    if value < 10:
        return f"{value:.1f}"
    return f"{value:,.0f}"
