"""Veo 3.1 video (reference section 1.5).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerRequest
from receiver.providers.evolink_catalogue.rules import Flag, Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="veo-3.1-fast-generate-preview",
        kind="video",
        page="video-series/veo3.1/veo-3.1-fast-generate-preview-generate",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "auto",
                    "16:9",
                    "9:16",
                )
            ),
            "duration": OneOf(
                values=(
                    4,
                    6,
                    8,
                )
            ),
            "generate_audio": Flag(),
            "generation_type": OneOf(
                values=(
                    "TEXT",
                    "FIRST&LAST",
                    "REFERENCE",
                )
            ),
            "image_urls": Links(max_items=3),
            "n": Whole(minimum=1, maximum=4),
            "negative_prompt": Text(),
            "person_generation": OneOf(
                values=(
                    "allow_adult",
                    "dont_allow",
                )
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                    "4k",
                )
            ),
            "resize_mode": OneOf(
                values=(
                    "pad",
                    "crop",
                )
            ),
            "seed": Whole(minimum=1, maximum=4294967295),
        },
        required=("prompt",),
        notes=(
            "PRICE multiplies by n and by an audio/4k factor it does not state: unpriced",
            "n asks for several videos in one task",
        ),
    ),
    Entry(
        model="veo-3.1-generate-preview",
        kind="video",
        page="video-series/veo3.1/veo-3.1-generate-preview-generate",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "auto",
                    "16:9",
                    "9:16",
                )
            ),
            "duration": OneOf(
                values=(
                    4,
                    6,
                    8,
                )
            ),
            "generate_audio": Flag(),
            "generation_type": OneOf(
                values=(
                    "TEXT",
                    "FIRST&LAST",
                    "REFERENCE",
                )
            ),
            "image_urls": Links(max_items=3),
            "n": Whole(minimum=1, maximum=4),
            "negative_prompt": Text(),
            "person_generation": OneOf(
                values=(
                    "allow_adult",
                    "dont_allow",
                )
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                    "4k",
                )
            ),
            "resize_mode": OneOf(
                values=(
                    "pad",
                    "crop",
                )
            ),
            "seed": Whole(minimum=1, maximum=4294967295),
        },
        required=("prompt",),
        notes=(
            "PRICE multiplies by n and by an audio/4k factor it does not state: unpriced",
            "n asks for several videos in one task",
        ),
    ),
    Entry(
        model="veo3.1-fast-beta",
        kind="video",
        page="video-series/veo3.1/veo3.1-fast-video-generate",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "auto",
                    "16:9",
                    "9:16",
                ),
                default="auto",
            ),
            "enhance_prompt": Flag(default=True),
            "generation_type": OneOf(
                values=(
                    "TEXT",
                    "FIRST&LAST",
                    "REFERENCE",
                )
            ),
            "image_urls": Links(max_items=3),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(values=("720p",)),
        },
        required=("prompt",),
        price=PerRequest(credits=Decimal("21.6")),
    ),
    Entry(
        model="veo3.1-pro-beta",
        kind="video",
        page="video-series/veo3.1/veo3.1-pro-video-generate",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "auto",
                    "16:9",
                    "9:16",
                ),
                default="auto",
            ),
            "enhance_prompt": Flag(default=True),
            "generation_type": OneOf(
                values=(
                    "TEXT",
                    "FIRST&LAST",
                )
            ),
            "image_urls": Links(max_items=2),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(values=("720p",)),
        },
        required=("prompt",),
        price=PerRequest(credits=Decimal("162")),
    ),
)
