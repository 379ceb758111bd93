"""Wan 2.5 image (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Flag, Links, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="wan2.5-image-to-image",
        kind="image",
        page="image-series/wan2.5/wan2.5-image-to-image",
        fields={
            "image_urls": Links(max_items=2),
            # DOCS: 1-4; the schema says only integer
            "n": Whole(minimum=1, maximum=4),
            "prompt": Text(max_chars=2000),
        },
        required=(
            "prompt",
            "image_urls",
        ),
    ),
    Entry(
        model="wan2.5-text-to-image",
        kind="image",
        page="image-series/wan2.5/wan2.5-text-to-image",
        fields={
            # DOCS: 1-4; the schema says only integer
            "n": Whole(minimum=1, maximum=4),
            "prompt": Text(max_chars=2000),
            "prompt_extend": Flag(default=True),
            "size": Text(),
        },
        required=("prompt",),
    ),
)
