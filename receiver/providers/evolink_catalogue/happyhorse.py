"""HappyHorse 1.0 and 1.1 video (reference section 1.5).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerSecond
from receiver.providers.evolink_catalogue.rules import Flag, Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="happyhorse-1.0-image-to-video",
        kind="video",
        page="video-series/happyhorse1.0/happyhorse-1.0-image-to-video",
        fields={
            "duration": Whole(minimum=3, maximum=15, default=5),
            "image_urls": Links(min_items=1, max_items=1),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
        },
        required=("image_urls",),
        price=PerSecond(
            credits_per_second=Decimal("7.616"), quality_multipliers={"1080p": Decimal("1.72")}
        ),
    ),
    Entry(
        model="happyhorse-1.0-reference-to-video",
        kind="video",
        page="video-series/happyhorse1.0/happyhorse-1.0-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "4:5",
                    "5:4",
                    "9:21",
                    "21:9",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "image_urls": Links(min_items=1, max_items=9),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("7.616"), quality_multipliers={"1080p": Decimal("1.72")}
        ),
    ),
    Entry(
        model="happyhorse-1.0-text-to-video",
        kind="video",
        page="video-series/happyhorse1.0/happyhorse-1.0-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "4:5",
                    "5:4",
                    "9:21",
                    "21:9",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("7.616"), quality_multipliers={"1080p": Decimal("1.72")}
        ),
        notes=("prompt: 2500 characters (Chinese) or 5000; longer is truncated, not refused",),
    ),
    Entry(
        model="happyhorse-1.0-video-edit",
        kind="video",
        page="video-series/happyhorse1.0/happyhorse-1.0-video-edit",
        fields={
            "image_urls": Links(max_items=5),
            "keep_original_sound": Flag(default=False),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
            "video_urls": Links(min_items=1, max_items=1),
        },
        required=(
            "prompt",
            "video_urls",
        ),
        notes=("billed on input + output seconds (PRICE, at least 45.696): unpriced here",),
    ),
    Entry(
        model="happyhorse-1.1-image-to-video",
        kind="video",
        page="video-series/happyhorse1.1/happyhorse-1.1-image-to-video",
        fields={
            "duration": Whole(minimum=3, maximum=15, default=5),
            "image_urls": Links(min_items=1, max_items=1),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
        },
        required=("image_urls",),
        price=PerSecond(
            credits_per_second=Decimal("7.616"), quality_multipliers={"1080p": Decimal("1.29")}
        ),
    ),
    Entry(
        model="happyhorse-1.1-reference-to-video",
        kind="video",
        page="video-series/happyhorse1.1/happyhorse-1.1-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "4:5",
                    "5:4",
                    "9:21",
                    "21:9",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "image_urls": Links(min_items=1, max_items=9),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("7.616"), quality_multipliers={"1080p": Decimal("1.29")}
        ),
    ),
    Entry(
        model="happyhorse-1.1-text-to-video",
        kind="video",
        page="video-series/happyhorse1.1/happyhorse-1.1-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "4:5",
                    "5:4",
                    "9:21",
                    "21:9",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("7.616"), quality_multipliers={"1080p": Decimal("1.29")}
        ),
        notes=("prompt: 2500 characters (Chinese) or 5000; longer is truncated, not refused",),
    ),
)
