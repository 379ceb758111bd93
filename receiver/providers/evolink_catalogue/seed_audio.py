"""Doubao Seed Audio speech (reference section 2.2).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Links, Number, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="doubao-seed-audio-1-0",
        kind="audio",
        page="audio-series/doubao-seed-audio/doubao-seed-audio-1-0",
        fields={
            "audio_references": Links(max_items=3),
            "format": OneOf(
                values=(
                    "wav",
                    "mp3",
                    "pcm",
                    "ogg_opus",
                ),
                default="wav",
            ),
            "image_urls": Links(max_items=1),
            "loudness_rate": Number(minimum=0.5, maximum=2.0, default=1.0),
            "pitch_rate": Whole(minimum=-12, maximum=12, default=0),
            "prompt": Text(max_chars=1500),
            "sample_rate": OneOf(
                values=(
                    8000,
                    16000,
                    24000,
                    32000,
                    44100,
                    48000,
                ),
                default=24000,
            ),
            "speech_rate": Number(minimum=0.5, maximum=2.0, default=1.0),
        },
        required=("prompt",),
    ),
)
