"""Qwen image (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Flag, Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="qwen-image-3.0",
        kind="image",
        page="image-series/qwen/qwen-image-3.0",
        fields={
            "image_urls": Links(),
            "n": Whole(minimum=1, maximum=6, default=1),
            "negative_prompt": Text(max_chars=500),
            "prompt": Text(max_chars=4500),
            "prompt_extend": Flag(default=False),
            "quality": OneOf(
                values=(
                    "1K",
                    "2K",
                ),
                default="1K",
            ),
            "seed": Whole(minimum=0, maximum=2147483647),
            "size": Text(default="auto"),
            "watermark": Flag(default=False),
        },
        required=("prompt",),
    ),
    Entry(
        model="qwen-image-3.0-pro",
        kind="image",
        page="image-series/qwen/qwen-image-3.0-pro",
        fields={
            "image_urls": Links(),
            "n": Whole(minimum=1, maximum=6, default=1),
            "negative_prompt": Text(max_chars=500),
            "prompt": Text(max_chars=4500),
            "prompt_extend": Flag(default=False),
            "quality": OneOf(
                values=(
                    "1K",
                    "2K",
                ),
                default="1K",
            ),
            "seed": Whole(minimum=0, maximum=2147483647),
            "size": Text(default="auto"),
            "watermark": Flag(default=False),
        },
        required=("prompt",),
    ),
    Entry(
        model="qwen-image-edit",
        kind="image",
        page="image-series/qwen/qwen-image-edit",
        fields={
            "image_urls": Links(),
            "prompt": Text(max_chars=2000),
        },
        required=(
            "prompt",
            "image_urls",
        ),
    ),
    Entry(
        model="qwen-image-edit-plus",
        kind="image",
        page="image-series/qwen/qwen-image-edit-plus",
        fields={
            "image_urls": Links(),
            "n": Whole(minimum=1, maximum=6, default=1),
            "negative_prompt": Text(max_chars=500),
            "prompt": Text(max_chars=2000),
            "prompt_extend": Flag(default=True),
            "seed": Whole(minimum=0, maximum=2147483647),
            "size": Text(),
            "watermark": Flag(default=False),
        },
        required=(
            "prompt",
            "image_urls",
        ),
    ),
)
