"""Sora 2 preview video (reference section 1.5).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerSecond
from receiver.providers.evolink_catalogue.rules import Links, OneOf, Text

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="sora-2-preview",
        kind="video",
        page="video-series/sora2/sora-2-preview-video-generate",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "1280x720",
                    "720x1280",
                    "16:9",
                    "9:16",
                )
            ),
            # DOCS: 4, 8 or 12 s; the schema says only integer
            "duration": OneOf(values=(4, 8, 12), default=4),
            "image_urls": Links(max_items=1),
            "prompt": Text(max_chars=5000),
        },
        required=("prompt",),
        price=PerSecond(credits_per_second=Decimal("5.76"), minimum_credits=Decimal("23.04")),
    ),
    Entry(
        model="sora-2-pro-preview",
        kind="video",
        page="video-series/sora2pro/sora-2-pro-preview-video-generate",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                )
            ),
            # DOCS: 4, 8 or 12 s; the schema says only integer
            "duration": OneOf(values=(4, 8, 12), default=4),
            "image_urls": Links(max_items=1),
            "prompt": Text(max_chars=5000),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                )
            ),
        },
        required=("prompt",),
        notes=("not in PRICE: unpriced",),
    ),
)
