"""Seedance 2.0, 2.5 and 1.x video (reference section 1.1-1.3).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerSecond
from receiver.providers.evolink_catalogue.rules import Flag, Group, Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="doubao-seedance-1.0-pro-fast",
        kind="video",
        page="video-series/seedance1.0/seedance-1.0-pro-fast-video-generate",
        fields={
            "aspect_ratio": Text(),
            "duration": Whole(minimum=2, maximum=12),
            "image_urls": Links(max_items=1),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                )
            ),
        },
        required=("prompt",),
        notes=(
            "PRICE not read: unpriced",
            "default quality 1080p; I2V adds keep_ratio and adaptive aspect ratios (DOCS)",
        ),
    ),
    Entry(
        model="seedance-1.5-pro",
        kind="video",
        page="video-series/seedance1.5/seedance-1.5-pro-video-generate",
        fields={
            "aspect_ratio": Text(),
            "duration": Whole(minimum=4, maximum=12),
            "generate_audio": Flag(default=True),
            "image_urls": Links(max_items=2),
            "prompt": Text(max_chars=2000),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                )
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("1.7784"),
            quality_multipliers={
                "480p": Decimal("0.46"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.23"),
            },
            sound_multipliers={
                "480p": Decimal("0.92"),
                "720p": Decimal("2"),
                "1080p": Decimal("4.46"),
            },
            # DOCS: 720p by default (the schema gives no default).
            default_quality="720p",
        ),
        notes=(
            "prompt: at most 2000 tokens (DOCS), not checked",
            "generate_audio (default true) doubles the price (PRICE)",
        ),
    ),
    Entry(
        model="seedance-2.0-fast-image-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-fast-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(min_items=1, max_items=2),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="720p",
            ),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("8.2013"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
        ),
        unconfirmed=(
            "PRICE gives fast 8.2013 credits/s, no multipliers: the standard ones applied",
        ),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "1080p is 'coming soon' on fast and mini (DOCS): the schema's list followed",
        ),
    ),
    Entry(
        model="seedance-2.0-fast-reference-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-fast-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "audio_urls": Links(max_items=3),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(max_items=9),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="720p",
            ),
            "video_urls": Links(max_items=3),
        },
        required=("prompt",),
        at_least_one_of=(("image_urls", "video_urls"),),
        price=PerSecond(
            credits_per_second=Decimal("8.2013"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
            unpriced_with=("video_urls",),
        ),
        unconfirmed=(
            "PRICE gives fast 8.2013 credits/s, no multipliers: the standard ones applied",
        ),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "audio alone is refused (DOCS): at least one image or video",
            "1080p is 'coming soon' on fast and mini (DOCS): the schema's list followed",
        ),
    ),
    Entry(
        model="seedance-2.0-fast-text-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-fast-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "model_params": Group(
                fields={
                    "web_search": Flag(default=False),
                },
            ),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="720p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("8.2013"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
        ),
        unconfirmed=(
            "PRICE gives fast 8.2013 credits/s, no multipliers: the standard ones applied",
        ),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "1080p is 'coming soon' on fast and mini (DOCS): the schema's list followed",
            "sending image, video or audio URLs is not supported (DOCS)",
        ),
    ),
    Entry(
        model="seedance-2.0-image-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(min_items=1, max_items=2),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                    "4k",
                ),
                default="720p",
            ),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("13.5"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
            minimum_credits=Decimal("25.002"),
        ),
        unconfirmed=(),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
        ),
    ),
    Entry(
        model="seedance-2.0-mini-image-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-mini-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(min_items=1, max_items=2),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="720p",
            ),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("2.7"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
        ),
        unconfirmed=("PRICE gives mini 2.7 credits/s, no multipliers: the standard ones applied",),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "1080p is 'coming soon' on fast and mini (DOCS): the schema's list followed",
        ),
    ),
    Entry(
        model="seedance-2.0-mini-reference-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-mini-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "audio_urls": Links(max_items=3),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(max_items=9),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="720p",
            ),
            "video_urls": Links(max_items=3),
        },
        required=("prompt",),
        at_least_one_of=(("image_urls", "video_urls"),),
        price=PerSecond(
            credits_per_second=Decimal("2.7"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
            unpriced_with=("video_urls",),
        ),
        unconfirmed=("PRICE gives mini 2.7 credits/s, no multipliers: the standard ones applied",),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "audio alone is refused (DOCS): at least one image or video",
            "1080p is 'coming soon' on fast and mini (DOCS): the schema's list followed",
        ),
    ),
    Entry(
        model="seedance-2.0-mini-text-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-mini-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                ),
                default="720p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("2.7"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
        ),
        unconfirmed=("PRICE gives mini 2.7 credits/s, no multipliers: the standard ones applied",),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "1080p is 'coming soon' on fast and mini (DOCS): the schema's list followed",
            "sending image, video or audio URLs is not supported (DOCS)",
        ),
    ),
    Entry(
        model="seedance-2.0-reference-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "audio_urls": Links(max_items=3),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(max_items=9),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                    "4k",
                ),
                default="720p",
            ),
            "video_urls": Links(max_items=3),
        },
        required=("prompt",),
        at_least_one_of=(("image_urls", "video_urls"),),
        price=PerSecond(
            credits_per_second=Decimal("13.5"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
            minimum_credits=Decimal("25.002"),
            unpriced_with=("video_urls",),
        ),
        unconfirmed=(),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "audio alone is refused (DOCS): at least one image or video",
        ),
    ),
    Entry(
        model="seedance-2.0-text-to-video",
        kind="video",
        page="video-series/seedance2.0/seedance-2.0-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "content_filter": Flag(default=True),
            "duration": Whole(minimum=4, maximum=15, default=5),
            "generate_audio": Flag(default=True),
            "model_params": Group(
                fields={
                    "web_search": Flag(default=False),
                },
            ),
            "prompt": Text(),
            "quality": OneOf(
                values=(
                    "480p",
                    "720p",
                    "1080p",
                    "4k",
                ),
                default="720p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("13.5"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
                "4k": Decimal("5.1"),
            },
            minimum_credits=Decimal("25.002"),
        ),
        unconfirmed=(),
        notes=(
            "prompt: at most 10,000 tokens (DOCS): not checked (tokens, not characters)",
            "content_filter=false costs x1.1, web search per search: not in the estimate",
            "sending image, video or audio URLs is not supported (DOCS)",
        ),
    ),
    Entry(
        model="seedance-2.5-image-to-video",
        kind="video",
        page="video-series/seedance2.5/seedance-2.5-image-to-video",
        fields={
            "aspect_ratio": OneOf(values=("adaptive",), default="adaptive"),
            "content_filter": Flag(default=True),
            # DOCS: 4-30 s, or -1 (the model chooses); the schema says only integer
            "duration": Whole(minimum=4, maximum=30, also=(-1,), default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(min_items=1, max_items=2),
            "output_format": OneOf(
                values=(
                    "mp4",
                    "mov",
                ),
                default="mp4",
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
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(
            credits_per_second=Decimal("20.09"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
            },
            minimum_credits=Decimal("37.3674"),
            chosen_duration_seconds=30,
        ),
    ),
    Entry(
        model="seedance-2.5-reference-to-video",
        kind="video",
        page="video-series/seedance2.5/seedance-2.5-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "audio_urls": Links(min_items=1, max_items=10),
            "content_filter": Flag(default=True),
            # DOCS: 4-30 s, or -1 (the model chooses); the schema says only integer
            "duration": Whole(minimum=4, maximum=30, also=(-1,), default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(min_items=1, max_items=30),
            "output_format": OneOf(
                values=(
                    "mp4",
                    "mov",
                ),
                default="mp4",
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
            "video_urls": Links(min_items=1, max_items=10),
        },
        required=("prompt",),
        at_least_one_of=(("image_urls", "video_urls", "audio_urls"),),
        price=PerSecond(
            credits_per_second=Decimal("20.09"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
            },
            minimum_credits=Decimal("37.3674"),
            chosen_duration_seconds=30,
            unpriced_with=("video_urls",),
        ),
    ),
    Entry(
        model="seedance-2.5-text-to-video",
        kind="video",
        page="video-series/seedance2.5/seedance-2.5-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                    "4:3",
                    "3:4",
                    "21:9",
                    "adaptive",
                ),
                default="adaptive",
            ),
            "content_filter": Flag(default=True),
            # DOCS: 4-30 s, or -1 (the model chooses); the schema says only integer
            "duration": Whole(minimum=4, maximum=30, also=(-1,), default=5),
            "generate_audio": Flag(default=True),
            "model_params": Group(
                fields={
                    "web_search": Flag(default=False),
                },
            ),
            "output_format": OneOf(
                values=(
                    "mp4",
                    "mov",
                ),
                default="mp4",
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
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("20.09"),
            quality_multipliers={
                "480p": Decimal("0.465"),
                "720p": Decimal("1"),
                "1080p": Decimal("2.5"),
            },
            minimum_credits=Decimal("37.3674"),
            chosen_duration_seconds=30,
        ),
    ),
    Entry(
        model="seedance-2.5-video-edit",
        kind="video",
        page="video-series/seedance2.5/seedance-2.5-video-edit",
        fields={
            "aspect_ratio": OneOf(values=("adaptive",), default="adaptive"),
            "audio_urls": Links(min_items=1, max_items=10),
            "content_filter": Flag(default=True),
            "duration": OneOf(values=(-1,), default=-1),
            "generate_audio": Flag(default=True),
            "image_urls": Links(min_items=1, max_items=30),
            "output_format": OneOf(
                values=(
                    "mp4",
                    "mov",
                ),
                default="mp4",
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
            "video_urls": Links(min_items=1, max_items=10),
        },
        required=(
            "prompt",
            "video_urls",
        ),
        notes=("billed on input video seconds too (PRICE): unpriced here",),
    ),
    Entry(
        model="seedance-2.5-video-extend",
        kind="video",
        page="video-series/seedance2.5/seedance-2.5-video-extend",
        fields={
            "aspect_ratio": OneOf(values=("adaptive",), default="adaptive"),
            "audio_urls": Links(min_items=1, max_items=10),
            "content_filter": Flag(default=True),
            # DOCS: 4-30 s, or -1 (the model chooses); the schema says only integer
            "duration": Whole(minimum=4, maximum=30, also=(-1,), default=5),
            "generate_audio": Flag(default=True),
            "image_urls": Links(min_items=1, max_items=30),
            "output_format": OneOf(
                values=(
                    "mp4",
                    "mov",
                ),
                default="mp4",
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
            "video_urls": Links(min_items=1, max_items=10),
        },
        required=(
            "prompt",
            "video_urls",
        ),
        notes=("billed on input video seconds too (PRICE): unpriced here",),
    ),
)
