"""Midjourney v7 and v8.1 with their follow-up actions (reference section 2.1).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from datetime import timedelta

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import (
    Group,
    Link,
    Links,
    ListOf,
    Number,
    OneOf,
    Text,
    Whole,
)

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="mj-v7",
        kind="image",
        page="image-series/midjourney/mj-v7-image-generate",
        fields={
            "model_params": Group(
                fields={
                    "speed": OneOf(
                        values=(
                            "draft",
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                },
            ),
            "prompt": Text(max_chars=8192),
        },
        required=("prompt",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
        notes=("4 images per generation (DOCS)",),
    ),
    Entry(
        model="mj-v7-edit",
        kind="image",
        page="image-series/midjourney/mj-v7-edit",
        fields={
            "model_params": Group(
                fields={
                    "canvas": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                        ),
                    ),
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "img_pos": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                            "x": Whole(),
                            "y": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                            "x",
                            "y",
                        ),
                    ),
                    "mask": Group(open=True),
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                    "task_id": Text(),
                },
                required=(
                    "task_id",
                    "canvas",
                    "img_pos",
                ),
            ),
            "prompt": Text(),
        },
        required=(
            "prompt",
            "model_params",
        ),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-enhance",
        kind="image",
        page="image-series/midjourney/mj-v7-enhance",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "task_id": Text(),
                },
                required=("task_id",),
            ),
        },
        required=("model_params",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-inpaint",
        kind="image",
        page="image-series/midjourney/mj-v7-inpaint",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "mask": Group(open=True),
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                    "task_id": Text(),
                },
                required=(
                    "task_id",
                    "mask",
                ),
            ),
            "prompt": Text(),
        },
        required=("model_params",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-outpaint",
        kind="image",
        page="image-series/midjourney/mj-v7-outpaint",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "scale": Number(minimum=1.1, maximum=2.0, default=1.5),
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                    "task_id": Text(),
                },
                required=("task_id",),
            ),
            "prompt": Text(),
        },
        required=("model_params",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-pan",
        kind="image",
        page="image-series/midjourney/mj-v7-pan",
        fields={
            "model_params": Group(
                fields={
                    "direction": OneOf(
                        values=(
                            "down",
                            "right",
                            "up",
                            "left",
                        ),
                        default="down",
                    ),
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "scale": Number(minimum=1.1, maximum=3.0, default=1.5),
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                    "task_id": Text(),
                },
                required=("task_id",),
            ),
            "prompt": Text(),
        },
        required=("model_params",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-remix",
        kind="image",
        page="image-series/midjourney/mj-v7-remix",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "mode": OneOf(
                        values=(
                            "strong",
                            "subtle",
                        ),
                        default="strong",
                    ),
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                    "task_id": Text(),
                },
                required=("task_id",),
            ),
            "prompt": Text(),
        },
        required=(
            "prompt",
            "model_params",
        ),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-remove-bg",
        kind="image",
        page="image-series/midjourney/mj-v7-remove-bg",
        fields={
            "image_urls": Links(max_items=1),
        },
        required=("image_urls",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-retexture",
        kind="image",
        page="image-series/midjourney/mj-v7-retexture",
        fields={
            "image_urls": Links(max_items=1),
            "model_params": Group(
                fields={
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                },
            ),
            "prompt": Text(),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-upload-paint",
        kind="image",
        page="image-series/midjourney/mj-v7-upload-paint",
        fields={
            "image_urls": Links(max_items=1),
            "model_params": Group(
                fields={
                    "canvas": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                        ),
                    ),
                    "img_pos": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                            "x": Whole(),
                            "y": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                            "x",
                            "y",
                        ),
                    ),
                    "mask": Group(
                        fields={
                            "areas": ListOf(
                                item=Group(
                                    fields={
                                        "height": Whole(),
                                        "points": ListOf(item=Whole()),
                                        "width": Whole(),
                                    },
                                )
                            ),
                            "url": Link(),
                        },
                    ),
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                },
                required=(
                    "mask",
                    "canvas",
                    "img_pos",
                ),
            ),
            "prompt": Text(),
        },
        required=(
            "prompt",
            "image_urls",
            "model_params",
        ),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-upscale",
        kind="image",
        page="image-series/midjourney/mj-v7-upscale",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "task_id": Text(),
                    "type": OneOf(
                        values=(
                            "standard",
                            "creative",
                        ),
                        default="standard",
                    ),
                },
                required=("task_id",),
            ),
        },
        required=("model_params",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v7-variation",
        kind="image",
        page="image-series/midjourney/mj-v7-variation",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "speed": OneOf(
                        values=(
                            "fast",
                            "turbo",
                        ),
                        default="fast",
                    ),
                    "task_id": Text(),
                    "type": OneOf(
                        values=(
                            "subtle",
                            "strong",
                        ),
                        default="subtle",
                    ),
                },
                required=("task_id",),
            ),
            "prompt": Text(),
        },
        required=("model_params",),
        unconfirmed=(
            "the form of several results (several URLs or one grid) is UNCONFIRMED",
            "the v7 pages give no link lifetime: 24 h assumed",
        ),
    ),
    Entry(
        model="mj-v8.1",
        kind="image",
        page="image-series/midjourney/mj-v8-1-image-generate",
        fields={
            "model_params": Group(
                fields={
                    "speed": OneOf(
                        values=(
                            "draft",
                            "fast",
                        ),
                        default="fast",
                    ),
                },
            ),
            "prompt": Text(max_chars=1024),
            "quality": OneOf(
                values=(
                    "standard",
                    "hd",
                ),
                default="standard",
            ),
        },
        required=("prompt",),
        link_lifetime=timedelta(days=30),
        unconfirmed=("the form of several results (several URLs or one grid) is UNCONFIRMED",),
        notes=(
            "v8.1 links stay valid for 30 days (DOCS)",
            "fast makes 4 images, draft 24 (DOCS)",
        ),
    ),
    Entry(
        model="mj-v8.1-edit",
        kind="image",
        page="image-series/midjourney/mj-v8-1-edit",
        fields={
            "model_params": Group(
                fields={
                    "canvas": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                        ),
                    ),
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "img_pos": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                            "x": Whole(),
                            "y": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                            "x",
                            "y",
                        ),
                    ),
                    "mask": Group(
                        fields={
                            "areas": ListOf(
                                item=Group(
                                    fields={
                                        "height": Whole(),
                                        "points": ListOf(item=Whole()),
                                        "width": Whole(),
                                    },
                                )
                            ),
                            "url": Link(),
                        },
                    ),
                    "speed": OneOf(values=("fast",), default="fast"),
                    "task_id": Text(),
                },
                required=(
                    "task_id",
                    "canvas",
                    "img_pos",
                ),
            ),
            "prompt": Text(max_chars=1024),
        },
        required=(
            "prompt",
            "model_params",
        ),
        link_lifetime=timedelta(days=30),
        unconfirmed=("the form of several results (several URLs or one grid) is UNCONFIRMED",),
        notes=("v8.1 links stay valid for 30 days (DOCS)",),
    ),
    Entry(
        model="mj-v8.1-remix",
        kind="image",
        page="image-series/midjourney/mj-v8-1-remix",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "mode": OneOf(
                        values=(
                            "strong",
                            "subtle",
                        ),
                        default="strong",
                    ),
                    "speed": OneOf(values=("fast",), default="fast"),
                    "task_id": Text(),
                },
                required=("task_id",),
            ),
            "prompt": Text(max_chars=1024),
        },
        required=(
            "prompt",
            "model_params",
        ),
        link_lifetime=timedelta(days=30),
        unconfirmed=("the form of several results (several URLs or one grid) is UNCONFIRMED",),
        notes=("v8.1 links stay valid for 30 days (DOCS)",),
    ),
    Entry(
        model="mj-v8.1-remove-bg",
        kind="image",
        page="image-series/midjourney/mj-v8-1-remove-bg",
        fields={
            "image_urls": Links(max_items=1),
        },
        required=("image_urls",),
        link_lifetime=timedelta(days=30),
        unconfirmed=("the form of several results (several URLs or one grid) is UNCONFIRMED",),
        notes=("v8.1 links stay valid for 30 days (DOCS)",),
    ),
    Entry(
        model="mj-v8.1-retexture",
        kind="image",
        page="image-series/midjourney/mj-v8-1-retexture",
        fields={
            "image_urls": Links(max_items=1),
            "model_params": Group(
                fields={
                    "speed": OneOf(values=("fast",), default="fast"),
                },
            ),
            "prompt": Text(max_chars=1024),
        },
        required=(
            "prompt",
            "image_urls",
        ),
        link_lifetime=timedelta(days=30),
        unconfirmed=("the form of several results (several URLs or one grid) is UNCONFIRMED",),
        notes=("v8.1 links stay valid for 30 days (DOCS)",),
    ),
    Entry(
        model="mj-v8.1-upload-paint",
        kind="image",
        page="image-series/midjourney/mj-v8-1-upload-paint",
        fields={
            "image_urls": Links(max_items=1),
            "model_params": Group(
                fields={
                    "canvas": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                        ),
                    ),
                    "img_pos": Group(
                        fields={
                            "height": Whole(),
                            "width": Whole(),
                            "x": Whole(),
                            "y": Whole(),
                        },
                        required=(
                            "width",
                            "height",
                            "x",
                            "y",
                        ),
                    ),
                    "mask": Group(
                        fields={
                            "areas": ListOf(
                                item=Group(
                                    fields={
                                        "height": Whole(),
                                        "points": ListOf(item=Whole()),
                                        "width": Whole(),
                                    },
                                )
                            ),
                            "url": Link(),
                        },
                    ),
                    "speed": OneOf(values=("fast",), default="fast"),
                },
                required=(
                    "mask",
                    "canvas",
                    "img_pos",
                ),
            ),
            "prompt": Text(max_chars=1024),
        },
        required=(
            "prompt",
            "image_urls",
            "model_params",
        ),
        link_lifetime=timedelta(days=30),
        unconfirmed=("the form of several results (several URLs or one grid) is UNCONFIRMED",),
        notes=("v8.1 links stay valid for 30 days (DOCS)",),
    ),
    Entry(
        model="mj-v8.1-variation",
        kind="image",
        page="image-series/midjourney/mj-v8-1-variation",
        fields={
            "model_params": Group(
                fields={
                    "image_number": OneOf(
                        values=(
                            0,
                            1,
                            2,
                            3,
                        ),
                        default=0,
                    ),
                    "task_id": Text(),
                    "type": OneOf(
                        values=(
                            "subtle",
                            "strong",
                        ),
                        default="subtle",
                    ),
                },
                required=("task_id",),
            ),
        },
        required=("model_params",),
        link_lifetime=timedelta(days=30),
        unconfirmed=("the form of several results (several URLs or one grid) is UNCONFIRMED",),
        notes=("v8.1 links stay valid for 30 days (DOCS)",),
    ),
)
