"""Gemini Omni Flash video (reference section 1.5).

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
        model="gemini-omni-flash-image-to-video",
        kind="video",
        page="video-series/gemini-omni-flash/gemini-omni-flash-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "auto",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=10, also=("auto",), default=10),
            "image_urls": Links(min_items=1, max_items=1, data=True),
            "prompt": Text(),
        },
        required=("prompt",),
        notes=(
            "PRICE not read (billing_rule example per_token): unpriced",
            "images may be data URLs or plain base64 (DOCS)",
        ),
    ),
    Entry(
        model="gemini-omni-flash-reference-to-video",
        kind="video",
        page="video-series/gemini-omni-flash/gemini-omni-flash-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "auto",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=10, also=("auto",), default=10),
            "image_urls": Links(min_items=1, max_items=6, data=True),
            "prompt": Text(),
        },
        required=("prompt",),
        notes=(
            "PRICE not read (billing_rule example per_token): unpriced",
            "images may be data URLs or plain base64 (DOCS)",
        ),
    ),
    Entry(
        model="gemini-omni-flash-text-to-video",
        kind="video",
        page="video-series/gemini-omni-flash/gemini-omni-flash-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "auto",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=10, also=("auto",), default=10),
            "prompt": Text(),
        },
        required=("prompt",),
        notes=(
            "PRICE not read (billing_rule example per_token): unpriced",
            "images may be data URLs or plain base64 (DOCS)",
        ),
    ),
    Entry(
        model="gemini-omni-flash-video-edit",
        kind="video",
        page="video-series/gemini-omni-flash/gemini-omni-flash-video-edit",
        fields={
            "prompt": Text(),
            "video_urls": Links(min_items=1, max_items=1, data=True),
        },
        required=("prompt",),
        notes=(
            "PRICE not read (billing_rule example per_token): unpriced",
            "images may be data URLs or plain base64 (DOCS)",
        ),
    ),
)
