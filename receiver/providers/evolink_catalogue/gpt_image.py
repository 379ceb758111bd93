"""GPT Image (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Link, Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="gpt-image-1.5",
        kind="image",
        page="image-series/gpt-image-1.5/gpt-image-1.5-image-generation",
        fields={
            "image_urls": Links(),
            "n": OneOf(values=(1,), default=1),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "low",
                    "medium",
                    "high",
                ),
                default="high",
            ),
            "size": OneOf(
                values=(
                    "1:1",
                    "2:3",
                    "3:2",
                    "1024x1024",
                    "1024x1536",
                    "1536x1024",
                )
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="gpt-image-2",
        kind="image",
        page="image-series/gpt-image-2/gpt-image-2-image-generation",
        fields={
            "background": OneOf(
                values=(
                    "opaque",
                    "transparent",
                ),
                default="opaque",
            ),
            "image_urls": Links(),
            "mask_url": Link(),
            "n": Whole(minimum=1, maximum=10, default=1),
            "prompt": Text(max_chars=32000),
            "quality": OneOf(
                values=(
                    "low",
                    "medium",
                    "high",
                ),
                default="medium",
            ),
            "resolution": OneOf(
                values=(
                    "1K",
                    "2K",
                    "4K",
                ),
                default="1K",
            ),
            "size": Text(default="auto"),
        },
        required=("prompt",),
    ),
    Entry(
        model="gpt-image-2-beta",
        kind="image",
        page="image-series/gpt-image-2/gpt-image-2-beta-image-generation",
        fields={
            "image_urls": Links(max_items=16),
            "prompt": Text(max_chars=2000),
            "resolution": OneOf(values=("1K",), default="1K"),
            "size": Text(default="auto"),
        },
        required=("prompt",),
    ),
)
