"""Kling V3, O3, O1, motion control and custom elements (reference section 1.4).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerRequest, PerSecond
from receiver.providers.evolink_catalogue.rules import (
    Flag,
    Group,
    Link,
    Links,
    ListOf,
    OneOf,
    Text,
    Whole,
)

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="kling-custom-element",
        kind="video",
        page="video-series/kling/kling-custom-element",
        fields={
            "model_params": Group(
                fields={
                    "element_description": Text(max_chars=100),
                    "element_image_list": Group(
                        fields={
                            "frontal_image": Link(),
                            "refer_images": ListOf(
                                item=Group(
                                    fields={
                                        "image_url": Link(),
                                    },
                                    required=("image_url",),
                                ),
                                min_items=1,
                                max_items=3,
                            ),
                        },
                        required=(
                            "frontal_image",
                            "refer_images",
                        ),
                    ),
                    "element_name": Text(max_chars=20),
                    "element_video_list": Group(
                        fields={
                            "refer_videos": ListOf(
                                item=Group(
                                    fields={
                                        "video_url": Link(),
                                    },
                                    required=("video_url",),
                                ),
                                min_items=1,
                                max_items=1,
                            ),
                        },
                        required=("refer_videos",),
                    ),
                    "element_voice_id": Text(),
                    "reference_type": OneOf(
                        values=(
                            "image_refer",
                            "video_refer",
                        )
                    ),
                },
                required=(
                    "element_name",
                    "element_description",
                    "reference_type",
                ),
            ),
        },
        required=("model_params",),
        price=PerRequest(credits=Decimal("0.001")),
        notes=("makes no video: result_data holds the element_id",),
    ),
    Entry(
        model="kling-o1-image-to-video",
        kind="video",
        page="video-series/kling/kling-o1-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                )
            ),
            "duration": OneOf(
                values=(
                    5,
                    10,
                ),
                default=5,
            ),
            "image_urls": Links(min_items=1, max_items=2),
            "prompt": Text(max_chars=5000),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        price=PerSecond(credits_per_second=Decimal("8")),
    ),
    Entry(
        model="kling-o1-video-edit",
        kind="video",
        page="video-series/kling/kling-o1-video-edit",
        fields={
            "image_urls": Links(min_items=1, max_items=4),
            "keep_original_sound": Flag(),
            "prompt": Text(max_chars=5000),
            "video_urls": Links(min_items=1, max_items=1),
        },
        required=(
            "prompt",
            "video_urls",
        ),
        notes=("billed on the input video's seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="kling-o1-video-edit-fast",
        kind="video",
        page="video-series/kling/kling-o1-video-edit-fast",
        fields={
            "image_urls": Links(min_items=1, max_items=4),
            "keep_original_sound": Flag(),
            "prompt": Text(max_chars=5000),
            "video_urls": Links(min_items=1, max_items=1),
        },
        required=(
            "prompt",
            "video_urls",
        ),
        notes=("billed on the input video's seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="kling-o3-image-to-video",
        kind="video",
        page="video-series/kling/kling-o3-image-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                )
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "image_end": Link(),
            "image_start": Link(),
            "image_urls": Links(),
            "model_params": Group(
                fields={
                    "element_list": ListOf(
                        item=Group(
                            fields={
                                "element_id": Text(),
                            },
                        )
                    ),
                    "multi_prompt": ListOf(),
                    "multi_shot": Flag(),
                    "shot_type": OneOf(values=("customize",)),
                    "watermark_info": Group(
                        fields={
                            "enabled": Flag(),
                        },
                    ),
                },
            ),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                    "4k",
                )
            ),
            "sound": OneOf(
                values=(
                    "on",
                    "off",
                ),
                default="off",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("5.4"),
            quality_multipliers={
                "720p": Decimal("1.334"),
                "1080p": Decimal("1.667"),
                "4k": Decimal("5"),
            },
            sound_multipliers={
                "720p": Decimal("1.334"),
                "1080p": Decimal("1.667"),
                "4k": Decimal("5"),
            },
            # DOCS: 720p by default (the schema gives no default).
            default_quality="720p",
        ),
        unconfirmed=(
            "PRICE gives o3's multipliers with sound on only; applied with sound off too",
        ),
    ),
    Entry(
        model="kling-o3-reference-to-video",
        kind="video",
        page="video-series/kling/kling-o3-reference-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                )
            ),
            "duration": Whole(minimum=3, maximum=10, default=5),
            "image_urls": Links(),
            "keep_original_sound": Flag(default=True),
            "model_params": Group(
                fields={
                    "element_list": ListOf(
                        item=Group(
                            fields={
                                "element_id": Text(),
                            },
                        )
                    ),
                    "watermark_info": Group(
                        fields={
                            "enabled": Flag(),
                        },
                    ),
                },
            ),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "video_url": Link(),
        },
        required=("prompt",),
        price=PerSecond(credits_per_second=Decimal("8.1")),
    ),
    Entry(
        model="kling-o3-text-to-video",
        kind="video",
        page="video-series/kling/kling-o3-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "model_params": Group(
                fields={
                    "element_list": ListOf(
                        item=Group(
                            fields={
                                "element_id": Text(),
                            },
                            required=("element_id",),
                        ),
                        max_items=7,
                    ),
                    "multi_prompt": ListOf(
                        item=Group(
                            fields={
                                "duration": Text(),
                                "index": Whole(),
                                "prompt": Text(),
                            },
                            required=(
                                "index",
                                "prompt",
                                "duration",
                            ),
                        ),
                        max_items=6,
                    ),
                    "multi_shot": Flag(default=False),
                    "shot_type": OneOf(values=("customize",)),
                    "watermark_info": Group(
                        fields={
                            "enabled": Flag(),
                        },
                    ),
                },
            ),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                    "4k",
                ),
                default="720p",
            ),
            "sound": OneOf(
                values=(
                    "on",
                    "off",
                ),
                default="off",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("5.4"),
            quality_multipliers={
                "720p": Decimal("1.334"),
                "1080p": Decimal("1.667"),
                "4k": Decimal("5"),
            },
            sound_multipliers={
                "720p": Decimal("1.334"),
                "1080p": Decimal("1.667"),
                "4k": Decimal("5"),
            },
        ),
        unconfirmed=(
            "PRICE gives o3's multipliers with sound on only; applied with sound off too",
        ),
    ),
    Entry(
        model="kling-o3-video-edit",
        kind="video",
        page="video-series/kling/kling-o3-video-edit",
        fields={
            "image_urls": Links(),
            "keep_original_sound": Flag(default=True),
            "model_params": Group(
                fields={
                    "element_list": ListOf(
                        item=Group(
                            fields={
                                "element_id": Text(),
                            },
                        )
                    ),
                    "watermark_info": Group(
                        fields={
                            "enabled": Flag(),
                        },
                    ),
                },
            ),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "video_url": Link(),
        },
        notes=("billed on the input video's seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="kling-v3-image-to-video",
        kind="video",
        page="video-series/kling/kling-v3-image-to-video",
        fields={
            "duration": Whole(minimum=3, maximum=15, default=5),
            "image_end": Link(),
            "image_start": Link(),
            "model_params": Group(
                fields={
                    "element_list": ListOf(
                        item=Group(
                            fields={
                                "element_id": Text(),
                            },
                            required=("element_id",),
                        ),
                        max_items=3,
                    ),
                    "multi_prompt": ListOf(
                        item=Group(
                            fields={
                                "duration": Text(),
                                "index": Whole(),
                                "prompt": Text(max_chars=512),
                            },
                            required=(
                                "index",
                                "prompt",
                                "duration",
                            ),
                        ),
                        min_items=1,
                        max_items=6,
                    ),
                    "multi_shot": Flag(default=False),
                    "shot_type": OneOf(
                        values=(
                            "customize",
                            "intelligence",
                        )
                    ),
                    "watermark_info": Group(
                        fields={
                            "enabled": Flag(),
                        },
                    ),
                },
            ),
            "negative_prompt": Text(),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                    "4k",
                ),
                default="720p",
            ),
            "sound": OneOf(
                values=(
                    "on",
                    "off",
                ),
                default="off",
            ),
        },
        required=("image_start",),
        price=PerSecond(
            credits_per_second=Decimal("7.2"),
            quality_multipliers={"720p": Decimal("1"), "1080p": Decimal("1.25")},
            minimum_credits=Decimal("21.6"),
        ),
        notes=(
            "PRICE: 5.4 credits/s, at least 16.2; sound off x1/x1.334/x5 at 720p/1080p/4k,",
            "sound on x1.5/x2/x5. Still estimated at Turbo's 7.2 credits/s (x1.25 at 1080p)",
            "like the simulator and the Kling adapter, until those follow the reference",
            "4k is in the schema; evolink_models.py still accepts 720p and 1080p only",
        ),
    ),
    Entry(
        model="kling-v3-motion-control",
        kind="video",
        page="video-series/kling/kling-v3-motion-control",
        fields={
            "image_urls": Links(),
            "model_params": Group(
                fields={
                    "character_orientation": OneOf(
                        values=(
                            "image",
                            "video",
                        )
                    ),
                    "element_list": ListOf(
                        item=Group(
                            fields={
                                "element_id": Text(),
                            },
                            required=("element_id",),
                        ),
                        max_items=1,
                    ),
                    "keep_sound": Flag(default=True),
                    "watermark_info": Group(
                        fields={
                            "enabled": Flag(),
                        },
                    ),
                },
                required=("character_orientation",),
            ),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
            "video_urls": Links(),
        },
        required=(
            "image_urls",
            "video_urls",
            "model_params",
        ),
        notes=(
            "duration = the reference video's: unpriced (PRICE 8.1648 credits/s, 1080p x1.334)",
        ),
    ),
    Entry(
        model="kling-v3-text-to-video",
        kind="video",
        page="video-series/kling/kling-v3-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                )
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "model_params": Group(
                fields={
                    "multi_prompt": ListOf(
                        item=Group(
                            fields={
                                "duration": Text(),
                                "index": Whole(),
                                "prompt": Text(max_chars=512),
                            },
                            required=(
                                "index",
                                "prompt",
                                "duration",
                            ),
                        ),
                        min_items=1,
                        max_items=6,
                    ),
                    "multi_shot": Flag(default=False),
                    "shot_type": OneOf(
                        values=(
                            "customize",
                            "intelligence",
                        )
                    ),
                    "watermark_info": Group(
                        fields={
                            "enabled": Flag(),
                        },
                    ),
                },
            ),
            "negative_prompt": Text(),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                    "4k",
                ),
                default="720p",
            ),
            "sound": OneOf(
                values=(
                    "on",
                    "off",
                ),
                default="off",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("7.2"),
            quality_multipliers={"720p": Decimal("1"), "1080p": Decimal("1.25")},
            minimum_credits=Decimal("21.6"),
        ),
        notes=(
            "PRICE: 5.4 credits/s, at least 16.2; sound off x1/x1.334/x5 at 720p/1080p/4k,",
            "sound on x1.5/x2/x5. Still estimated at Turbo's 7.2 credits/s (x1.25 at 1080p)",
            "like the simulator and the Kling adapter, until those follow the reference",
            "4k is in the schema; evolink_models.py still accepts 720p and 1080p only",
        ),
    ),
    Entry(
        model="kling-v3-turbo-image-to-video",
        kind="video",
        page="video-series/kling/kling-v3-turbo-image-to-video",
        fields={
            "duration": Whole(minimum=3, maximum=15, default=5),
            "image_start": Link(),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
        },
        required=("image_start",),
        price=PerSecond(
            credits_per_second=Decimal("7.2"),
            quality_multipliers={"720p": Decimal("1"), "1080p": Decimal("1.25")},
            minimum_credits=Decimal("21.6"),
        ),
        notes=("DOCS: no sound or negative_prompt field; evolink_models.py still passes them on",),
    ),
    Entry(
        model="kling-v3-turbo-text-to-video",
        kind="video",
        page="video-series/kling/kling-v3-turbo-text-to-video",
        fields={
            "aspect_ratio": OneOf(
                values=(
                    "16:9",
                    "9:16",
                    "1:1",
                ),
                default="16:9",
            ),
            "duration": Whole(minimum=3, maximum=15, default=5),
            "prompt": Text(max_chars=2500),
            "quality": OneOf(
                values=(
                    "720p",
                    "1080p",
                ),
                default="720p",
            ),
        },
        required=("prompt",),
        price=PerSecond(
            credits_per_second=Decimal("7.2"),
            quality_multipliers={"720p": Decimal("1"), "1080p": Decimal("1.25")},
            minimum_credits=Decimal("21.6"),
        ),
        notes=("DOCS: no sound or negative_prompt field; evolink_models.py still passes them on",),
    ),
)
