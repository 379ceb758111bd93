"""EvoLink's whole catalogue as data: one :class:`Entry` per model, one module per family.

Every model of ``shared/reference/evolink-request-schemas.json`` has an entry (the test
``tests/unit/test_evolink_catalogue.py`` holds the table to it); :data:`ABSENT` names, with
the reason, any model left out on purpose. Adding a model is adding an entry to its family's
module, reviewed against the reference.
"""

from __future__ import annotations

from collections.abc import Mapping

from receiver.providers.evolink_catalogue import (
    avatar_and_upscale,
    fast_image,
    gemini_omni,
    gpt_image,
    grok_image,
    grok_video,
    happyhorse,
    kling,
    midjourney,
    minimax,
    nano_banana,
    qwen_image,
    qwen_tts,
    seed_audio,
    seedance,
    seedream,
    sora,
    suno,
    veo,
    wan_image,
    wan_video,
)
from receiver.providers.evolink_catalogue.entry import ENDPOINTS, Entry, Kind

__all__ = ["ABSENT", "CATALOGUE", "ENDPOINTS", "Entry", "Kind", "entries_of_kind"]

_FAMILIES = (
    seedance,
    kling,
    happyhorse,
    grok_video,
    gemini_omni,
    minimax,
    sora,
    veo,
    wan_video,
    avatar_and_upscale,
    gpt_image,
    grok_image,
    nano_banana,
    seedream,
    qwen_image,
    wan_image,
    fast_image,
    midjourney,
    suno,
    seed_audio,
    qwen_tts,
)


def _index(entries: tuple[Entry, ...]) -> Mapping[str, Entry]:
    table: dict[str, Entry] = {}
    for entry in entries:
        if entry.model in table:
            raise ValueError(f"{entry.model} has two catalogue entries")
        table[entry.model] = entry
    return table


#: Every model we know on EvoLink, by its id.
CATALOGUE: Mapping[str, Entry] = _index(
    tuple(entry for family in _FAMILIES for entry in family.ENTRIES)
)

#: Models of the reference's schemas deliberately left out, with the reason (none today).
ABSENT: Mapping[str, str] = {}


def entries_of_kind(kind: Kind | None = None) -> list[Entry]:
    """The entries of one kind (all when ``kind`` is None), by model id."""
    return sorted(
        (entry for entry in CATALOGUE.values() if kind is None or entry.kind == kind),
        key=lambda entry: entry.model,
    )
