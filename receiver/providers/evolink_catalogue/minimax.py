"""MiniMax Hailuo and MiniMax H3 video (reference section 1.5).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerSecond
from receiver.providers.evolink_catalogue.rules import Flag, Group, Link, Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="MiniMax-Hailuo-02",
        kind="video",
        page="video-series/hailuo/hailuo-02-video-generate",
        fields={
            "duration": OneOf(
                values=(
                    6,
                    10,
                ),
                default=6,
            ),
            "image_urls": Links(max_items=2),
            "model_params": Group(
                fields={
                    "fast_pretreatment": Flag(default=False),
                    "prompt_optimizer": Flag(default=True),
                },
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "512p",
                    "768p",
                    "1080p",
                ),
                default="768p",
            ),
        },
        notes=(
            "PRICE not seen: unpriced",
            "10 s is not offered at 1080p (DOCS): not checked here",
        ),
    ),
    Entry(
        model="MiniMax-Hailuo-2.3",
        kind="video",
        page="video-series/hailuo/hailuo-2-3-video-generate",
        fields={
            "duration": OneOf(
                values=(
                    6,
                    10,
                ),
                default=6,
            ),
            "image_urls": Links(max_items=1),
            "model_params": Group(
                fields={
                    "fast_pretreatment": Flag(default=False),
                    "prompt_optimizer": Flag(default=True),
                },
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "768p",
                    "1080p",
                ),
                default="768p",
            ),
        },
        required=("prompt",),
        notes=(
            "PRICE not seen: unpriced",
            "10 s is not offered at 1080p (DOCS): not checked here",
        ),
    ),
    Entry(
        model="MiniMax-Hailuo-2.3-Fast",
        kind="video",
        page="video-series/hailuo/hailuo-2-3-fast-video-generate",
        fields={
            "duration": OneOf(
                values=(
                    6,
                    10,
                ),
                default=6,
            ),
            "image_urls": Links(min_items=1, max_items=1),
            "model_params": Group(
                fields={
                    "prompt_optimizer": Flag(default=True),
                },
            ),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "768p",
                    "1080p",
                ),
                default="768p",
            ),
        },
        required=("image_urls",),
        notes=(
            "PRICE not seen: unpriced",
            "10 s is not offered at 1080p (DOCS): not checked here",
        ),
    ),
    Entry(
        model="minimax-h3-image-to-video",
        kind="video",
        page="video-series/minimax/minimax-h3/minimax-h3-image-to-video",
        fields={
            "duration": Whole(minimum=4, maximum=15, default=4),
            "image_end": Link(),
            "image_start": Link(),
            "prompt": Text(max_chars=7000, min_chars=1),
            "quality": OneOf(
                values=(
                    "768p",
                    "2k",
                ),
                default="768p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("8.398"),
            quality_multipliers={"768p": Decimal(8) / Decimal(13)},
        ),
        notes=("tasks cannot be cancelled; callbacks on completed or failed only (DOCS)",),
    ),
    Entry(
        model="minimax-h3-reference-to-video",
        kind="video",
        page="video-series/minimax/minimax-h3/minimax-h3-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "adaptive",
                    "16:9",
                    "21:9",
                    "4:3",
                    "1:1",
                    "3:4",
                    "9:16",
                ),
                default="adaptive",
            ),
            "audio_urls": Links(max_items=3),
            "duration": Whole(minimum=4, maximum=15, default=4),
            "image_urls": Links(max_items=9),
            "prompt": Text(max_chars=7000, min_chars=1),
            "quality": OneOf(
                values=(
                    "768p",
                    "2k",
                ),
                default="768p",
            ),
            "video_urls": Links(max_items=3),
        },
        required=("prompt",),
        at_least_one_of=(("image_urls", "video_urls", "audio_urls"),),
        notes=(
            "billed on input video seconds and per image beyond 5 (PRICE): unpriced here",
            "img + vid + aud at most 12 (DOCS): not checked here",
            "tasks cannot be cancelled; callbacks on completed or failed only (DOCS)",
        ),
    ),
    Entry(
        model="minimax-h3-text-to-video",
        kind="video",
        page="video-series/minimax/minimax-h3/minimax-h3-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "21:9",
                    "4:3",
                    "1:1",
                    "3:4",
                    "9:16",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=4, maximum=15, default=4),
            "prompt": Text(max_chars=7000, min_chars=1),
            "quality": OneOf(
                values=(
                    "768p",
                    "2k",
                ),
                default="768p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("8.398"),
            quality_multipliers={"768p": Decimal(8) / Decimal(13)},
        ),
        notes=("tasks cannot be cancelled; callbacks on completed or failed only (DOCS)",),
    ),
)
