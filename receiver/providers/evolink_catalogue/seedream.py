"""Doubao Seedream image (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import (
    Flag,
    Group,
    Links,
    ListOf,
    OneOf,
    Text,
    Whole,
)

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="doubao-seedream-4.0",
        kind="image",
        page="image-series/seedream/seedream-4.0-image-generate",
        fields={
            "image_urls": Links(max_items=14),
            # DOCS: 1-15, an upper limit (ask for several in the prompt); refs + outputs at most 15
            "n": Whole(minimum=1, maximum=15),
            "prompt": Text(max_chars=2000),
            "prompt_priority": OneOf(
                values=(
                    "standard",
                    "fast",
                ),
                default="standard",
            ),
            "quality": OneOf(
                values=(
                    "1K",
                    "2K",
                    "4K",
                ),
                default="2K",
            ),
            "size": Text(default="auto"),
        },
        required=("prompt",),
    ),
    Entry(
        model="doubao-seedream-4.5",
        kind="image",
        page="image-series/seedream/seedream-4.5-image-generate",
        fields={
            "image_urls": Links(max_items=14),
            # DOCS: 1-15, an upper limit (ask for several in the prompt); refs + outputs at most 15
            "n": Whole(minimum=1, maximum=15),
            "prompt": Text(max_chars=2000),
            "prompt_priority": OneOf(values=("standard",), default="standard"),
            "quality": OneOf(
                values=(
                    "2K",
                    "4K",
                ),
                default="2K",
            ),
            "size": Text(default="auto"),
        },
        required=("prompt",),
    ),
    Entry(
        model="doubao-seedream-5.0-lite",
        kind="image",
        page="image-series/seedream/seedream-5.0-lite-image-generate",
        fields={
            "image_urls": Links(max_items=14),
            "model_params": Group(
                fields={
                    "output_format": OneOf(
                        values=(
                            "png",
                            "jpeg",
                        ),
                        default="jpeg",
                    ),
                    "tools": ListOf(
                        item=Group(
                            fields={
                                "type": OneOf(values=("web_search",)),
                            },
                            required=("type",),
                        )
                    ),
                },
            ),
            # DOCS: 1-15, an upper limit (ask for several in the prompt); refs + outputs at most 15
            "n": Whole(minimum=1, maximum=15),
            "prompt": Text(max_chars=2000),
            "prompt_priority": OneOf(values=("standard",), default="standard"),
            "quality": OneOf(
                values=(
                    "2K",
                    "3K",
                    "4K",
                ),
                default="2K",
            ),
            "size": Text(default="auto"),
        },
        required=("prompt",),
    ),
    Entry(
        model="doubao-seedream-5.0-pro",
        kind="image",
        page="image-series/seedream/seedream-5.0-pro-image-generate",
        fields={
            "background": OneOf(
                values=(
                    "opaque",
                    "transparent",
                ),
                default="opaque",
            ),
            "image_urls": Links(max_items=10),
            "output_format": OneOf(
                values=(
                    "png",
                    "jpeg",
                ),
                default="jpeg",
            ),
            "prompt": Text(),
            "prompt_priority": OneOf(
                values=(
                    "standard",
                    "fast",
                ),
                default="standard",
            ),
            "quality": OneOf(
                values=(
                    "1K",
                    "1.5K",
                    "2K",
                ),
                default="1K",
            ),
            "size": Text(default="auto"),
            "watermark": Flag(default=False),
        },
        required=("prompt",),
    ),
    Entry(
        model="doubao-seedream-5.0-pro-layerize",
        kind="image",
        page="image-series/seedream/seedream-5.0-pro-layerize-image-generate",
        fields={
            "image_urls": Links(min_items=1, max_items=1),
            "output_format": OneOf(
                values=(
                    "jpeg",
                    "png",
                ),
                default="jpeg",
            ),
            "prompt": Text(),
            "prompt_priority": OneOf(
                values=(
                    "standard",
                    "fast",
                ),
                default="standard",
            ),
            "quality": OneOf(
                values=(
                    "auto",
                    "1K",
                    "1.5K",
                    "2K",
                ),
                default="auto",
            ),
        },
        required=("image_urls",),
        notes=("layers come back in result_data[]",),
    ),
)
