"""Grok Imagine image (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="grok-imagine-image-2.0",
        kind="image",
        page="image-series/grok/grok-imagine-image-2.0-image-generate",
        fields={
            "image_urls": Links(max_items=3),
            "n": Whole(minimum=1, maximum=10, default=1),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "low",
                    "medium",
                ),
                default="medium",
            ),
            "resolution": OneOf(
                values=(
                    "1K",
                    "2K",
                ),
                default="1K",
            ),
            "size": OneOf(
                values=(
                    "1:1",
                    "4:3",
                    "3:4",
                    "3:2",
                    "2:3",
                    "16:9",
                    "9:16",
                    "2:1",
                    "1:2",
                    "19.5:9",
                    "9:19.5",
                    "20:9",
                    "9:20",
                    "auto",
                ),
                default="auto",
            ),
        },
        required=("prompt",),
    ),
)
