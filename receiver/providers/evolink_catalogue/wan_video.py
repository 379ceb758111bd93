"""Wan 2.5-3.0 video (reference section 1.5).

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
        model="wan2.5-image-to-video",
        kind="video",
        page="video-series/wan2.5/wan2.5-image-to-video",
        fields={
            # DOCS: 5 or 10 s; the schema says only integer
            "duration": OneOf(values=(5, 10)),
            "image_urls": Links(max_items=1),
            "prompt": Text(max_chars=2000),
            "prompt_extend": Flag(default=True),
            # DOCS: 480p/720p/1080p; the schema says only string
            "quality": OneOf(values=("480p", "720p", "1080p"), default="720p"),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("5.1"),
            quality_multipliers={"480p": Decimal("0.5"), "1080p": Decimal("1.67")},
        ),
    ),
    Entry(
        model="wan2.5-text-to-video",
        kind="video",
        page="video-series/wan2.5/wan2.5-text-to-video",
        fields={
            # DOCS: 16:9, 9:16, 1:1, and 4:3, 3:4 at 720p and 1080p (not checked per quality)
            "aspect_ratio": OneOf(values=("16:9", "9:16", "1:1", "4:3", "3:4"), default="16:9"),
            # DOCS: 5 or 10 s; the schema says only integer
            "duration": OneOf(values=(5, 10)),
            "prompt": Text(max_chars=2000),
            "prompt_extend": Flag(default=True),
            # DOCS: 480p/720p/1080p; the schema says only string
            "quality": OneOf(values=("480p", "720p", "1080p"), default="720p"),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("5.1"),
            quality_multipliers={"480p": Decimal("0.5"), "1080p": Decimal("1.67")},
        ),
    ),
    Entry(
        model="wan2.6-image-to-video",
        kind="video",
        page="video-series/wan2.6/wan2.6-image-to-video",
        fields={
            "audio_url": Link(),
            "duration": Whole(minimum=2, maximum=15),
            "image_urls": Links(max_items=1),
            "model_params": Group(
                fields={
                    "shot_type": OneOf(
                        values=(
                            "single",
                            "multi",
                        )
                    ),
                },
            ),
            "prompt": Text(max_chars=1500),
            "prompt_extend": Flag(),
            # DOCS: 720p or 1080p; the schema says only string
            "quality": OneOf(values=("720p", "1080p")),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("4.76"), quality_multipliers={"1080p": Decimal("1.67")}
        ),
    ),
    Entry(
        model="wan2.6-image-to-video-flash",
        kind="video",
        page="video-series/wan2.6/wan2.6-image-to-video-flash",
        fields={
            "audio_url": Link(),
            "duration": Whole(minimum=2, maximum=15),
            "generate_audio": Flag(default=True),
            "image_urls": Links(max_items=1),
            "model_params": Group(
                fields={
                    "shot_type": OneOf(
                        values=(
                            "single",
                            "multi",
                        )
                    ),
                },
            ),
            "prompt": Text(max_chars=1500),
            "prompt_extend": Flag(),
            # DOCS: 720p or 1080p; the schema says only string
            "quality": OneOf(values=("720p", "1080p")),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("2.38"), quality_multipliers={"1080p": Decimal("1.67")}
        ),
        notes=("generate_audio=false is cheaper (PRICE): the estimate is the price with audio",),
    ),
    Entry(
        model="wan2.6-reference-video",
        kind="video",
        page="video-series/wan2.6/wan2.6-reference-video",
        fields={
            "aspect_ratio": Text(),
            "duration": Whole(minimum=2, maximum=10),
            "model_params": Group(
                fields={
                    "shot_type": OneOf(
                        values=(
                            "single",
                            "multi",
                        )
                    ),
                },
            ),
            "prompt": Text(max_chars=1500),
            # DOCS: 720p or 1080p; the schema says only string
            "quality": OneOf(values=("720p", "1080p")),
            "video_urls": Links(max_items=3),
        },
        required=(
            "prompt",
            "video_urls",
        ),
        notes=("billed on input + output seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="wan2.6-reference-video-flash",
        kind="video",
        page="video-series/wan2.6/wan2.6-reference-video-flash",
        fields={
            "aspect_ratio": Text(),
            "duration": Whole(minimum=2, maximum=10),
            "generate_audio": Flag(default=True),
            "model_params": Group(
                fields={
                    "shot_type": OneOf(
                        values=(
                            "single",
                            "multi",
                        )
                    ),
                },
            ),
            "prompt": Text(max_chars=1500),
            # DOCS: 720p or 1080p; the schema says only string
            "quality": OneOf(values=("720p", "1080p")),
            "video_urls": Links(max_items=3),
        },
        required=(
            "prompt",
            "video_urls",
        ),
        notes=("billed on input + output seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="wan2.6-text-to-video",
        kind="video",
        page="video-series/wan2.6/wan2.6-text-to-video",
        fields={
            # DOCS: five ratios; the schema says only string
            "aspect_ratio": OneOf(values=("16:9", "9:16", "1:1", "4:3", "3:4")),
            "audio_url": Link(),
            "duration": Whole(minimum=2, maximum=15),
            "model_params": Group(
                fields={
                    "shot_type": OneOf(
                        values=(
                            "single",
                            "multi",
                        )
                    ),
                },
            ),
            "prompt": Text(max_chars=1500),
            "prompt_extend": Flag(),
            # DOCS: 720p or 1080p; the schema says only string
            "quality": OneOf(values=("720p", "1080p")),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("4.76"), quality_multipliers={"1080p": Decimal("1.67")}
        ),
    ),
    Entry(
        model="wan2.7-image-to-video",
        kind="video",
        page="video-series/wan2.7/wan2.7-image-to-video",
        fields={
            "audio_urls": Links(min_items=1, max_items=1),
            "duration": Whole(minimum=2, maximum=15, default=5, fractions=True),
            "generation_mode": OneOf(
                values=(
                    "first_frame",
                    "first_last_frame",
                    "video_continuation",
                )
            ),
            "image_end": Link(),
            "image_start": Link(),
            "negative_prompt": Text(max_chars=500),
            "prompt": Text(max_chars=5000),
            "prompt_extend": Flag(default=False),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
            "video_urls": Links(),
        },
        notes=("only 6 combinations of the inputs are valid (DOCS): not checked here",),
    ),
    Entry(
        model="wan2.7-reference-video",
        kind="video",
        page="video-series/wan2.7/wan2.7-reference-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                ),
                default="16:9",
            ),
            "audio_urls": Links(max_items=5),
            "duration": Whole(minimum=2, maximum=15, default=5, fractions=True),
            "image_start": Link(),
            "image_urls": Links(),
            "model_params": Group(
                fields={
                    "voice_bindings": Group(open=True),
                },
            ),
            "negative_prompt": Text(max_chars=500),
            "prompt": Text(max_chars=5000),
            "prompt_extend": Flag(default=False),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=1, maximum=2147483647),
            "video_urls": Links(),
        },
        required=("prompt",),
        notes=("billed on input + output seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="wan2.7-text-to-video",
        kind="video",
        page="video-series/wan2.7/wan2.7-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                ),
                default="16:9",
            ),
            "audio_urls": Links(min_items=1, max_items=1),
            "duration": Whole(minimum=2, maximum=15, default=5, fractions=True),
            "negative_prompt": Text(max_chars=500),
            "prompt": Text(max_chars=5000),
            "prompt_extend": Flag(default=False),
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
            credits_per_second=Decimal("5.44"), quality_multipliers={"1080p": Decimal("1.67")}
        ),
    ),
    Entry(
        model="wan2.7-video-edit",
        kind="video",
        page="video-series/wan2.7/wan2.7-video-edit",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                )
            ),
            # DOCS: 0 keeps the input's length, else 2-10 s
            "duration": Whole(minimum=2, maximum=10, also=(0,), default=0, fractions=True),
            "image_urls": Links(max_items=4),
            "keep_original_sound": Flag(default=False),
            "negative_prompt": Text(max_chars=500),
            "prompt": Text(max_chars=5000),
            "prompt_extend": Flag(default=False),
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
        required=("video_urls",),
        notes=("billed on input + output seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="wan3.0-image-to-video",
        kind="video",
        page="video-series/wan3.0/wan3.0-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "adaptive",
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                ),
                default="adaptive",
            ),
            # DOCS: 2-30 s or -1; the schema says only integer
            "duration": Whole(minimum=2, maximum=30, also=(-1,), default=5),
            "generate_audio": Flag(default=True),
            "image_end": Link(),
            "image_start": Link(),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=0, maximum=2147483647),
        },
        required=("image_start",),
        price=PerSecond(
            credits_per_second=Decimal("2.55"),
            quality_multipliers={"480p": Decimal("1"), "720p": Decimal("2"), "1080p": Decimal("4")},
            chosen_duration_seconds=30,
        ),
        notes=("prompt: at most 20,000 characters (DOCS)",),
    ),
    Entry(
        model="wan3.0-reference-video",
        kind="video",
        page="video-series/wan3.0/wan3.0-reference-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "adaptive",
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                ),
                default="adaptive",
            ),
            "audio_urls": Links(max_items=5),
            # DOCS: 2-30 s or -1; the schema says only integer
            "duration": Whole(minimum=2, maximum=30, also=(-1,), default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(max_items=10),
            "model_params": Group(
                fields={
                    "file_url": Link(),
                    "link_url": Link(),
                },
            ),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=0, maximum=2147483647),
            "video_urls": Links(max_items=5),
        },
        price=PerSecond(
            credits_per_second=Decimal("2.55"),
            quality_multipliers={"480p": Decimal("1"), "720p": Decimal("2"), "1080p": Decimal("4")},
            chosen_duration_seconds=30,
            unpriced_with=("video_urls",),
        ),
        notes=("prompt: at most 20,000 characters (DOCS)",),
    ),
    Entry(
        model="wan3.0-text-to-video",
        kind="video",
        page="video-series/wan3.0/wan3.0-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "adaptive",
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                ),
                default="adaptive",
            ),
            # DOCS: 2-30 s or -1; the schema says only integer
            "duration": Whole(minimum=2, maximum=30, also=(-1,), default=5),
            "generate_audio": Flag(default=True),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "seed": Whole(minimum=0, maximum=2147483647),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("2.55"),
            quality_multipliers={"480p": Decimal("1"), "720p": Decimal("2"), "1080p": Decimal("4")},
            chosen_duration_seconds=30,
        ),
        notes=("prompt: at most 20,000 characters (DOCS)",),
    ),
)
