"""OmniHuman (avatar), VideoRetalk (lip-sync), Topaz (upscale) (reference 1.5).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import Flag, Group, Link, Links, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="omnihuman-1.5",
        kind="video",
        page="video-series/omnihuman/omnihuman-1.5-video-generate",
        fields={
            "audio_url": Link(),
            "auto_mask": Flag(default=False),
            "image_urls": Links(max_items=1),
            "mask_url": Links(),
            "pe_fast_mode": Flag(default=False),
            "prompt": Text(),
            "seed": Whole(),
            "subject_check": Flag(default=False),
        },
        required=(
            "audio_url",
            "image_urls",
        ),
        notes=("billed on the input's seconds (PRICE): unpriced here",),
    ),
    Entry(
        model="topaz-video-upscale",
        kind="video",
        page="video-series/topaz/topaz-video-upscale",
        fields={
            "model_params": Group(
                fields={
                    "upscale_factor": OneOf(
                        values=(
                            "1",
                            "2",
                            "4",
                        ),
                        default="2",
                    ),
                },
            ),
            "video_urls": Links(min_items=1, max_items=1),
        },
        required=("video_urls",),
        notes=(
            "billed on the input's seconds (PRICE): unpriced here",
            'EvoLink treats a wrong upscale_factor as "2" (DOCS); refused here',
        ),
    ),
    Entry(
        model="videoretalk",
        kind="video",
        page="video-series/videoretalk/videoretalk-video-generate",
        fields={
            "audio_url": Link(),
            "query_face_threshold": Whole(minimum=120, maximum=200, default=170),
            "ref_image_url": Link(),
            "video_extension": Flag(default=False),
            "video_url": Link(),
        },
        required=(
            "video_url",
            "audio_url",
        ),
        notes=("billed on the input's seconds (PRICE): unpriced here",),
    ),
)
