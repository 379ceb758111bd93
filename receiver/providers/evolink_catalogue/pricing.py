"""What a catalogue model's request costs, by the price rule its entry holds.

The rules are those of EvoLink's public price list (the reference's PRICE snapshot): per
second of output (times a quality's multiplier, sometimes a sound multiplier, plus a charge
per input image, never less than a minimum), or per request (times the number of outputs
asked for). Where the price depends on something we cannot know before the task runs (the
length of an input video or audio), the rule says so and the request is unpriced: a budget
never counts a job as cheaper than it is. Computed in Decimal, rounded to the cent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["PerRequest", "PerSecond", "PriceRule"]

_CENT = Decimal("0.01")


def _sound_on(body: Mapping[str, Any], defaults: Mapping[str, Any]) -> bool:
    if "sound" in body or "sound" in defaults:
        return bool(body.get("sound", defaults.get("sound")) == "on")
    return bool(body.get("generate_audio", defaults.get("generate_audio", False)))


@dataclass(frozen=True, kw_only=True)
class PerSecond:
    """Credits per second of output at the base rate, times the quality's multiplier."""

    credits_per_second: Decimal
    #: Quality -> multiplier of the base rate; a quality not listed costs the base rate.
    quality_multipliers: Mapping[str, Decimal] = field(default_factory=dict, hash=False)
    #: Quality -> multiplier when sound is on (``sound: "on"`` or ``generate_audio: true``);
    #: replaces ``quality_multipliers`` then.
    sound_multipliers: Mapping[str, Decimal] = field(default_factory=dict, hash=False)
    #: The least a task costs.
    minimum_credits: Decimal = Decimal(0)
    #: Added per image of ``image_urls``.
    per_input_image: Decimal = Decimal(0)
    #: Seconds held for a duration the model chooses (``-1``): EvoLink holds the longest.
    chosen_duration_seconds: int | None = None
    #: Fields whose presence makes the price depend on the inputs' length: unpriced then.
    unpriced_with: tuple[str, ...] = ()
    #: The quality priced when neither the request nor the schema's default names one (the
    #: default the docs' prose gives).
    default_quality: str | None = None

    def credits(self, body: Mapping[str, Any], defaults: Mapping[str, Any]) -> float | None:
        if any(name in body for name in self.unpriced_with):
            return None
        seconds = body.get("duration", defaults.get("duration"))
        if seconds == -1 and self.chosen_duration_seconds is not None:
            seconds = self.chosen_duration_seconds
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
            return None
        quality = body.get("quality", defaults.get("quality", self.default_quality))
        multipliers = self.quality_multipliers
        if self.sound_multipliers and _sound_on(body, defaults):
            multipliers = self.sound_multipliers
        multiplier = multipliers.get(quality, Decimal(1)) if isinstance(quality, str) else 1
        credits = self.credits_per_second * Decimal(str(seconds)) * multiplier
        images = body.get("image_urls")
        if self.per_input_image and isinstance(images, list):
            credits += self.per_input_image * len(images)
        return float(max(credits, self.minimum_credits).quantize(_CENT))

    def describe(self) -> str:
        text = f"{self.credits_per_second} credits/s"
        if self.quality_multipliers:
            text += " (" + ", ".join(f"{q} x{m}" for q, m in self.quality_multipliers.items())
            text += ")"
        if self.sound_multipliers:
            text += "; with sound (" + ", ".join(
                f"{q} x{m}" for q, m in self.sound_multipliers.items()
            )
            text += ")"
        if self.per_input_image:
            text += f" + {self.per_input_image} per input image"
        if self.minimum_credits:
            text += f", at least {self.minimum_credits}"
        if self.unpriced_with:
            text += f"; unpriced with {', '.join(self.unpriced_with)}"
        return text


@dataclass(frozen=True, kw_only=True)
class PerRequest:
    """Credits per request, or per output when ``count_field`` (``n``) asks for several."""

    credits: Decimal
    count_field: str | None = None

    def credits_for(self, body: Mapping[str, Any], defaults: Mapping[str, Any]) -> float:
        count = 1
        if self.count_field is not None:
            asked = body.get(self.count_field, defaults.get(self.count_field, 1))
            count = asked if isinstance(asked, int) and not isinstance(asked, bool) else 1
        return float((self.credits * count).quantize(_CENT))

    def describe(self) -> str:
        each = f" per {self.count_field}" if self.count_field else ""
        return f"{self.credits} credits per request{each}"


#: Every kind of price rule.
PriceRule = PerSecond | PerRequest


def credits(rule: PriceRule, body: Mapping[str, Any], defaults: Mapping[str, Any]) -> float | None:
    """What a checked request body costs by ``rule``, or None when it cannot be told."""
    if isinstance(rule, PerRequest):
        return rule.credits_for(body, defaults)
    return rule.credits(body, defaults)
