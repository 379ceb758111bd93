"""Kling's own models (``model_name``): what each accepts, and the price that stands in.

Our reading of Kling's API reference, and every assumption made where it is silent, is
written down in ``docs/providers.md``. Kling bills in units of its resource packs, not in
credits: ``kling-v3`` counts what EvoLink charges for the same model (its
``kling-v3-text-to-video`` and ``-image-to-video`` cost the same), so that the daily budget
holds it; the other models have no such stand-in and stay unpriced.
"""

from __future__ import annotations

from collections.abc import Mapping

from receiver.errors import ValidationError
from receiver.providers import evolink_models
from receiver.providers.models import Durations, FirstFrame, ModelSpec, PerSecondPrice

__all__ = ["ALIASES", "DEFAULT_MODEL", "MODELS", "resolve_model"]

DEFAULT_MODEL = "kling-v3"

#: EvoLink's price for the same model, in the budget's currency (not Kling's bill).
_EVOLINK_V3_PRICE = evolink_models.MODELS["kling-v3-text-to-video"].price


def _model(
    name: str,
    first_frame: FirstFrame,
    durations: Durations,
    *,
    sound: bool = False,
    price: PerSecondPrice | None = None,
) -> ModelSpec:
    return ModelSpec(
        name=name,
        first_frame=first_frame,
        durations=durations,
        qualities=("720p", "1080p"),
        aspect_ratios=("16:9", "9:16", "1:1"),
        prompt_max_chars=2500,
        negative_prompt_max_chars=2500,
        max_shots=6,
        sound=sound,
        price=price,
    )


_FIVE_OR_TEN = Durations.of(5, 10)
MODELS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _model("kling-v1", "optional", _FIVE_OR_TEN),
        _model("kling-v1-5", "required", _FIVE_OR_TEN),
        _model("kling-v1-6", "optional", _FIVE_OR_TEN),
        _model("kling-v2-master", "optional", _FIVE_OR_TEN),
        _model("kling-v2-1", "required", _FIVE_OR_TEN),
        _model("kling-v2-1-master", "optional", _FIVE_OR_TEN),
        _model("kling-v2-5-turbo", "optional", _FIVE_OR_TEN),
        _model("kling-v2-6", "optional", _FIVE_OR_TEN, sound=True),
        _model(
            "kling-v3", "optional", Durations.between(3, 15), sound=True, price=_EVOLINK_V3_PRICE
        ),
    )
}
#: EvoLink's names for the same Kling models, so a job can switch providers unchanged. Its
#: Turbo variants have no counterpart we could confirm on Kling's own API: they are refused
#: with a pointer rather than silently swapped for a different model.
ALIASES: Mapping[str, str] = {
    "kling-v3-text-to-video": "kling-v3",
    "kling-v3-image-to-video": "kling-v3",
}


def resolve_model(name: str | None) -> ModelSpec:
    """The Kling model a request names (ours or EvoLink's spelling), or the default."""
    model_name = ALIASES.get(name, name) if name else DEFAULT_MODEL
    model = MODELS.get(model_name)
    if model is not None:
        return model
    hint = ""
    if name and name.startswith("kling-v3-turbo"):
        hint = " (EvoLink's Turbo models have no Kling API counterpart we know of: use kling-v3)"
    raise ValidationError(
        "model", f"unknown Kling model {name!r}{hint}; known models: {', '.join(MODELS)}"
    )
