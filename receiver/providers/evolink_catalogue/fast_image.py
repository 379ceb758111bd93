"""Z-Image Turbo and Krea 2 Turbo image (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Flag, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="krea-2-turbo",
        kind="image",
        page="image-series/krea/krea-2-turbo-image-generate",
        fields={
            "nsfw_check": Flag(default=False),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "1K",
                    "2K",
                ),
                default="1K",
            ),
            "seed": Whole(minimum=0, maximum=1048576),
            "size": OneOf(
                values=(
                    "1:1",
                    "4:3",
                    "3:4",
                    "5:4",
                    "4:5",
                    "2:3",
                    "3:2",
                    "9:16",
                    "16:9",
                    "1:2",
                    "2:1",
                ),
                default="1:1",
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="z-image-turbo",
        kind="image",
        page="image-series/z-image-turbo/z-image-turbo-image-generate",
        fields={
            "nsfw_check": Flag(default=False),
            "prompt": Text(max_chars=2000),
            "seed": Whole(minimum=1, maximum=2147483647),
            "size": OneOf(
                values=(
                    "1:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "9:16",
                    "16:9",
                    "1:2",
                    "2:1",
                )
            ),
        },
        required=("prompt",),
    ),
)
