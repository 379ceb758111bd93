"""Grok Imagine video (reference section 1.5).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerSecond
from receiver.providers.evolink_catalogue.rules import Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="grok-imagine-image-to-video-beta",
        kind="video",
        page="video-series/grok/grok-imagine-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "3:2",
                    "2:3",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=6, maximum=30, default=6),
            "image_urls": Links(min_items=1, max_items=7),
            "mode": OneOf(
                values=(
                    "fun",
                    "normal",
                    "spicy",
                ),
                default="normal",
            ),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="480p",
            ),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("1.36"), quality_multipliers={"720p": Decimal("1.4")}
        ),
    ),
    Entry(
        model="grok-imagine-text-to-video-beta",
        kind="video",
        page="video-series/grok/grok-imagine-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "3:2",
                    "2:3",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=6, maximum=30, default=6),
            "mode": OneOf(
                values=(
                    "fun",
                    "normal",
                    "spicy",
                ),
                default="normal",
            ),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="480p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("1.36"), quality_multipliers={"720p": Decimal("1.4")}
        ),
    ),
    Entry(
        model="grok-imagine-video-1.0-i2v",
        kind="video",
        page="video-series/grok/grok-imagine-video-1.0-i2v",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "3:2",
                    "2:3",
                    "4:3",
                    "3:4",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=1, maximum=15, default=6),
            "image_urls": Links(min_items=1, max_items=7),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="480p",
            ),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(credits_per_second=Decimal("2.38"), per_input_image=Decimal("0.0952")),
    ),
    Entry(
        model="grok-imagine-video-1.0-t2v",
        kind="video",
        page="video-series/grok/grok-imagine-video-1.0-t2v",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "3:2",
                    "2:3",
                    "4:3",
                    "3:4",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=1, maximum=15, default=6),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="480p",
            ),
        },
        required=("prompt",),
        price=PerSecond(credits_per_second=Decimal("2.38"), per_input_image=Decimal("0.0952")),
    ),
    Entry(
        model="grok-imagine-video-1.5-preview",
        kind="video",
        page="video-series/grok/grok-imagine-video-1.5-preview",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "auto",
                    "16:9",
                    "9:16",
                    "1:1",
                    "3:2",
                    "2:3",
                ),
                default="auto",
            ),
            "duration": Whole(minimum=1, maximum=15, default=6),
            "image_urls": Links(min_items=0, max_items=7),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                ),
                default="480p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("3.808"),
            quality_multipliers={"720p": Decimal("1.75"), "1080p": Decimal("3.125")},
            per_input_image=Decimal("0.476"),
        ),
        notes=("1080p is refused with 2 or more images (DOCS): not checked here",),
    ),
)
