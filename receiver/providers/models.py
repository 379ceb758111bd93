"""What a provider's model accepts and what it costs, as data: one :class:`ModelSpec` each.

Each provider keeps a table of its models (``evolink_models.py``, ``kling_models.py``); its
protocol module checks a request against the model's record, the submission reads the
model's limits and defaults from it before the request exists, and the cost estimate reads
its price rule. The fields are the ones today's models need; a catalogue of more models
extends the record (input counts, extra fields, other price rules) rather than replacing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

__all__ = ["Durations", "FirstFrame", "ModelSpec", "PerSecondPrice"]

#: Whether a model takes a first-frame image: never (text-to-video), either, or always.
FirstFrame = Literal["none", "optional", "required"]


@dataclass(frozen=True)
class Durations:
    """The whole seconds of video a model makes, in increasing order."""

    values: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.values or list(self.values) != sorted(set(self.values)):
            raise ValueError(f"durations must be increasing and not empty: {self.values}")

    @classmethod
    def between(cls, low: int, high: int) -> Durations:
        """Every whole second from ``low`` to ``high``, both included."""
        return cls(tuple(range(low, high + 1)))

    @classmethod
    def of(cls, *values: int) -> Durations:
        """Only these lengths (``Durations.of(5, 10)``)."""
        return cls(tuple(values))

    @property
    def low(self) -> int:
        return self.values[0]

    @property
    def high(self) -> int:
        return self.values[-1]

    @property
    def is_range(self) -> bool:
        """Whether every second between the shortest and the longest is allowed."""
        return len(self.values) == self.high - self.low + 1

    def __contains__(self, seconds: object) -> bool:
        return seconds in self.values

    def describe(self) -> str:
        """``"between 3 and 15 seconds"`` or ``"5 or 10 seconds"``."""
        if self.is_range and len(self.values) > 1:
            return f"between {self.low} and {self.high} seconds"
        return " or ".join(str(seconds) for seconds in self.values) + " seconds"


@dataclass(frozen=True, kw_only=True)
class PerSecondPrice:
    """Credits per second of video at the base rate, times the quality's multiplier.

    A video shorter than ``min_billed_seconds`` is billed as that long. Computed in
    Decimal, so that 7 x 7.2 is 50.4 and not 50.400000000000006.
    """

    #: The base rate (the lowest quality's), in credits per second.
    credits_per_second: float
    min_billed_seconds: int = 1
    #: Quality -> multiplier of the base rate; a quality not listed costs the base rate.
    quality_multipliers: Mapping[str, Decimal] = field(default_factory=dict, hash=False)

    def credits(self, *, duration: int, quality: str) -> float:
        rate = Decimal(str(self.credits_per_second))
        seconds = max(duration, self.min_billed_seconds)
        multiplier = self.quality_multipliers.get(quality, Decimal(1))
        return float((rate * seconds * multiplier).quantize(Decimal("0.01")))


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """One model of one provider: the request rules it documents and its price."""

    #: The model id the provider's API takes.
    name: str
    first_frame: FirstFrame
    durations: Durations
    default_duration: int = 5
    qualities: tuple[str, ...]
    default_quality: str = "720p"
    #: The aspect ratios a text-to-video request may ask for (an image job takes its frame's).
    aspect_ratios: tuple[str, ...]
    default_aspect_ratio: str = "16:9"
    prompt_max_chars: int
    negative_prompt_max_chars: int
    #: Shots written in the prompt's shot syntax; 0 for a single-shot model.
    max_shots: int = 0
    #: Whether the model takes ``sound="on"``.
    sound: bool = False
    #: What a job costs in credits; None when there is no price we can tell.
    price: PerSecondPrice | None = None

    def __post_init__(self) -> None:
        for name, default, allowed in (
            ("duration", self.default_duration, self.durations.values),
            ("quality", self.default_quality, self.qualities),
            ("aspect ratio", self.default_aspect_ratio, self.aspect_ratios),
        ):
            if default not in allowed:
                raise ValueError(f"{self.name}: the default {name} {default!r} is not allowed")

    @property
    def text_to_video(self) -> bool:
        """Whether the model makes a video from a prompt alone."""
        return self.first_frame != "required"

    @property
    def image_to_video(self) -> bool:
        """Whether the model animates a first-frame image."""
        return self.first_frame != "none"
