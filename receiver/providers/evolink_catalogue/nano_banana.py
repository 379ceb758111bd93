"""Gemini image models and Nano Banana (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Flag, Group, Links, OneOf, Text

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="gemini-3-pro-image-preview",
        kind="image",
        page="image-series/nanobanana/nanobanana-pro-image-generate",
        fields={
            "image_urls": Links(),
            "model_params": Group(
                fields={
                    "web_search": Flag(),
                },
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "1K",
                    "2K",
                    "4K",
                )
            ),
            "size": OneOf(
                values=(
                    "auto",
                    "1:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "4:5",
                    "5:4",
                    "9:16",
                    "16:9",
                    "21:9",
                )
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="gemini-3.1-flash-image-preview",
        kind="image",
        page="image-series/nanobanana/nanobanana-2-image-generate",
        fields={
            "image_urls": Links(),
            "model_params": Group(
                fields={
                    "image_search": Flag(),
                    "thinking_level": OneOf(
                        values=(
                            "auto",
                            "min",
                            "high",
                        )
                    ),
                    "web_search": Flag(),
                },
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "0.5K",
                    "1K",
                    "2K",
                    "4K",
                )
            ),
            "size": OneOf(
                values=(
                    "auto",
                    "1:1",
                    "1:4",
                    "4:1",
                    "1:8",
                    "8:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "4:5",
                    "5:4",
                    "9:16",
                    "16:9",
                    "21:9",
                )
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="gemini-3.1-flash-lite-image",
        kind="image",
        page="image-series/nanobanana/nanobanana-2-lite-image-generate",
        fields={
            "image_urls": Links(),
            "model_params": Group(
                fields={
                    "thinking_level": OneOf(
                        values=(
                            "auto",
                            "min",
                            "high",
                        )
                    ),
                },
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(values=("1K",)),
            "size": OneOf(
                values=(
                    "auto",
                    "1:1",
                    "1:4",
                    "4:1",
                    "1:8",
                    "8:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "4:5",
                    "5:4",
                    "9:16",
                    "16:9",
                    "21:9",
                )
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="nano-banana-2-beta",
        kind="image",
        page="image-series/nanobanana/nanobanana-2-beta-image-generate",
        fields={
            "image_urls": Links(),
            "model_params": Group(
                fields={
                    "thinking_level": OneOf(
                        values=(
                            "auto",
                            "min",
                            "high",
                        )
                    ),
                },
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "1K",
                    "2K",
                    "4K",
                )
            ),
            "size": OneOf(
                values=(
                    "auto",
                    "1:1",
                    "1:4",
                    "4:1",
                    "1:8",
                    "8:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "4:5",
                    "5:4",
                    "9:16",
                    "16:9",
                    "21:9",
                )
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="nano-banana-2-lite-beta",
        kind="image",
        page="image-series/nanobanana/nanobanana-2-lite-beta-image-generate",
        fields={
            "image_urls": Links(),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(values=("1K",)),
            "size": OneOf(
                values=(
                    "auto",
                    "1:1",
                    "1:4",
                    "4:1",
                    "1:8",
                    "8:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "4:5",
                    "5:4",
                    "9:16",
                    "16:9",
                    "21:9",
                )
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="nano-banana-beta",
        kind="image",
        page="image-series/nanobanana/nanobanana-image-generate",
        fields={
            "image_urls": Links(),
            "prompt": Text(max_chars=2000),
            "size": OneOf(
                values=(
                    "auto",
                    "1:1",
                    "2:3",
                    "3:2",
                    "4:3",
                    "3:4",
                    "16:9",
                    "9:16",
                )
            ),
        },
        required=("prompt",),
    ),
    Entry(
        model="nano-banana-pro-beta",
        kind="image",
        page="image-series/nanobanana/nanobanana-pro-beta-image-generate",
        fields={
            "image_urls": Links(),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "1K",
                    "2K",
                    "4K",
                )
            ),
            "size": OneOf(
                values=(
                    "auto",
                    "1:1",
                    "2:3",
                    "3:2",
                    "3:4",
                    "4:3",
                    "4:5",
                    "5:4",
                    "9:16",
                    "16:9",
                    "21:9",
                )
            ),
        },
        required=("prompt",),
    ),
)
