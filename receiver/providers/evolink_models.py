"""EvoLink's four Kling 3.0 models as named fields: what each accepts and costs.

Every other EvoLink model is an entry of :mod:`receiver.providers.evolink_catalogue`, checked
on the fields of its request body (:func:`by_catalogue` tells which path a model takes); the
catalogue has entries for these four too, which ``receiver models`` lists.

Sources: the Kling 3.0 Turbo page (``shared/seed/000_063aa42c851684b7.txt``: 3-15 s,
720p/1080p, 16:9/9:16/1:1, prompts up to 2500 characters and six shots, 7.2 credits a
second at 720p, 1.25x at 1080p, at least 3 s billed) and ``shared/reference/
evolink-catalogue.md``. ``kling-v3-*`` is priced as Turbo, the upper bound EvoLink's pages
allow (its price list also shows 5.4 credits a second with sound multipliers).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from receiver.errors import ValidationError
from receiver.providers.models import Durations, FirstFrame, ModelSpec, PerSecondPrice

__all__ = [
    "DEFAULT_IMAGE_MODEL",
    "DEFAULT_TEXT_MODEL",
    "MODELS",
    "PRICES",
    "by_catalogue",
    "default_model",
    "model_spec",
]

DEFAULT_TEXT_MODEL = "kling-v3-turbo-text-to-video"
DEFAULT_IMAGE_MODEL = "kling-v3-turbo-image-to-video"

#: Per second of video, at least 3 s, 1.25x at 1080p: 5 s at 720p is 36 credits.
_PER_SECOND_7_2 = PerSecondPrice(
    credits_per_second=7.2,
    min_billed_seconds=3,
    quality_multipliers={"720p": Decimal("1"), "1080p": Decimal("1.25")},
)


def _kling_3(name: str, first_frame: FirstFrame) -> ModelSpec:
    return ModelSpec(
        name=name,
        first_frame=first_frame,
        durations=Durations.between(3, 15),
        qualities=("720p", "1080p"),
        aspect_ratios=("16:9", "9:16", "1:1"),
        prompt_max_chars=2500,
        negative_prompt_max_chars=2500,
        max_shots=6,
        # Passed on as asked; the catalogue says Turbo has no sound field.
        sound=True,
        price=_PER_SECOND_7_2,
    )


MODELS: Mapping[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _kling_3("kling-v3-turbo-text-to-video", "none"),
        _kling_3("kling-v3-turbo-image-to-video", "required"),
        _kling_3("kling-v3-text-to-video", "none"),
        _kling_3("kling-v3-image-to-video", "required"),
    )
}

#: Each priced model's price rule (the simulator reserves credits by it).
PRICES: Mapping[str, PerSecondPrice] = {
    name: spec.price for name, spec in MODELS.items() if spec.price is not None
}


def default_model(*, image: bool) -> str:
    """The model a request that names none gets: Turbo, for text or for a first frame."""
    return DEFAULT_IMAGE_MODEL if image else DEFAULT_TEXT_MODEL


def model_spec(name: str | None, *, image: bool) -> ModelSpec:
    """The model a request names, or the default for its input; refuses an unknown one."""
    model = name or default_model(image=image)
    spec = MODELS.get(model)
    if spec is None:
        raise ValidationError(
            "model", f"unknown model {model!r}; known models: {', '.join(sorted(MODELS))}"
        )
    return spec


def by_catalogue(name: str | None) -> bool:
    """Whether a request for model ``name`` is checked by its catalogue entry (or, unknown,
    passed on as given) rather than by the named fields of the four models above."""
    return name is not None and name not in MODELS
