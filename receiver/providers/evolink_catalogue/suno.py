"""Suno music and personas (reference section 2.2).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.pricing import PerRequest
from receiver.providers.evolink_catalogue.rules import Flag, Group, Number, OneOf, Text, Whole

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="suno-persona",
        kind="audio",
        page="audio-series/suno/suno-persona-creation",
        fields={
            "model_params": Group(
                fields={
                    # Required by the schema, which does not describe it.
                    "description": Text(),
                    "name": Text(),
                    "result_id": Text(),
                    "source_task_id": Text(),
                    "style": Text(),
                    "vocal_end": Number(minimum=0),
                    "vocal_start": Number(minimum=0),
                },
                required=(
                    "source_task_id",
                    "result_id",
                    "name",
                    "description",
                ),
            ),
        },
        required=("model_params",),
        link_lifetime=timedelta(hours=72),
        notes=("makes no audio: result_data holds the persona_id",),
    ),
    Entry(
        model="suno-v4-beta",
        kind="audio",
        page="audio-series/suno/suno-music-generation",
        fields={
            "audio_weight": Number(minimum=0, maximum=1),
            "custom_mode": Flag(default=False),
            "duration": Whole(minimum=10, maximum=360, default=20),
            "instrumental": Flag(default=False),
            "negative_tags": Text(max_chars=200),
            "persona_id": Text(),
            "persona_model": OneOf(
                values=(
                    "style_persona",
                    "voice_persona",
                )
            ),
            "prompt": Text(),
            "style": Text(),
            "style_weight": Number(minimum=0, maximum=1),
            "vocal_gender": OneOf(
                values=(
                    "m",
                    "f",
                )
            ),
            "weirdness_constraint": Number(minimum=0, maximum=1),
        },
        price=PerRequest(credits=Decimal("8")),
        link_lifetime=timedelta(hours=72),
        notes=(
            "several songs per request, in result_data.songs[]",
            "duration only with custom mode on v5.5 (DOCS): not checked here",
            "one callback, at the terminal state (DOCS)",
        ),
    ),
    Entry(
        model="suno-v4.5-beta",
        kind="audio",
        page="audio-series/suno/suno-music-generation",
        fields={
            "audio_weight": Number(minimum=0, maximum=1),
            "custom_mode": Flag(default=False),
            "duration": Whole(minimum=10, maximum=360, default=20),
            "instrumental": Flag(default=False),
            "negative_tags": Text(max_chars=200),
            "persona_id": Text(),
            "persona_model": OneOf(
                values=(
                    "style_persona",
                    "voice_persona",
                )
            ),
            "prompt": Text(),
            "style": Text(),
            "style_weight": Number(minimum=0, maximum=1),
            "vocal_gender": OneOf(
                values=(
                    "m",
                    "f",
                )
            ),
            "weirdness_constraint": Number(minimum=0, maximum=1),
        },
        price=PerRequest(credits=Decimal("8")),
        link_lifetime=timedelta(hours=72),
        notes=(
            "several songs per request, in result_data.songs[]",
            "duration only with custom mode on v5.5 (DOCS): not checked here",
            "one callback, at the terminal state (DOCS)",
        ),
    ),
    Entry(
        model="suno-v4.5all-beta",
        kind="audio",
        page="audio-series/suno/suno-music-generation",
        fields={
            "audio_weight": Number(minimum=0, maximum=1),
            "custom_mode": Flag(default=False),
            "duration": Whole(minimum=10, maximum=360, default=20),
            "instrumental": Flag(default=False),
            "negative_tags": Text(max_chars=200),
            "persona_id": Text(),
            "persona_model": OneOf(
                values=(
                    "style_persona",
                    "voice_persona",
                )
            ),
            "prompt": Text(),
            "style": Text(),
            "style_weight": Number(minimum=0, maximum=1),
            "vocal_gender": OneOf(
                values=(
                    "m",
                    "f",
                )
            ),
            "weirdness_constraint": Number(minimum=0, maximum=1),
        },
        price=PerRequest(credits=Decimal("8")),
        link_lifetime=timedelta(hours=72),
        notes=(
            "several songs per request, in result_data.songs[]",
            "duration only with custom mode on v5.5 (DOCS): not checked here",
            "one callback, at the terminal state (DOCS)",
        ),
    ),
    Entry(
        model="suno-v4.5plus-beta",
        kind="audio",
        page="audio-series/suno/suno-music-generation",
        fields={
            "audio_weight": Number(minimum=0, maximum=1),
            "custom_mode": Flag(default=False),
            "duration": Whole(minimum=10, maximum=360, default=20),
            "instrumental": Flag(default=False),
            "negative_tags": Text(max_chars=200),
            "persona_id": Text(),
            "persona_model": OneOf(
                values=(
                    "style_persona",
                    "voice_persona",
                )
            ),
            "prompt": Text(),
            "style": Text(),
            "style_weight": Number(minimum=0, maximum=1),
            "vocal_gender": OneOf(
                values=(
                    "m",
                    "f",
                )
            ),
            "weirdness_constraint": Number(minimum=0, maximum=1),
        },
        price=PerRequest(credits=Decimal("8")),
        link_lifetime=timedelta(hours=72),
        notes=(
            "several songs per request, in result_data.songs[]",
            "duration only with custom mode on v5.5 (DOCS): not checked here",
            "one callback, at the terminal state (DOCS)",
        ),
    ),
    Entry(
        model="suno-v5-beta",
        kind="audio",
        page="audio-series/suno/suno-music-generation",
        fields={
            "audio_weight": Number(minimum=0, maximum=1),
            "custom_mode": Flag(default=False),
            "duration": Whole(minimum=10, maximum=360, default=20),
            "instrumental": Flag(default=False),
            "negative_tags": Text(max_chars=200),
            "persona_id": Text(),
            "persona_model": OneOf(
                values=(
                    "style_persona",
                    "voice_persona",
                )
            ),
            "prompt": Text(),
            "style": Text(),
            "style_weight": Number(minimum=0, maximum=1),
            "vocal_gender": OneOf(
                values=(
                    "m",
                    "f",
                )
            ),
            "weirdness_constraint": Number(minimum=0, maximum=1),
        },
        price=PerRequest(credits=Decimal("8")),
        link_lifetime=timedelta(hours=72),
        notes=(
            "several songs per request, in result_data.songs[]",
            "duration only with custom mode on v5.5 (DOCS): not checked here",
            "one callback, at the terminal state (DOCS)",
        ),
    ),
    Entry(
        model="suno-v5.5-beta",
        kind="audio",
        page="audio-series/suno/suno-music-generation",
        fields={
            "audio_weight": Number(minimum=0, maximum=1),
            "custom_mode": Flag(default=False),
            "duration": Whole(minimum=10, maximum=360, default=20),
            "instrumental": Flag(default=False),
            "negative_tags": Text(max_chars=200),
            "persona_id": Text(),
            "persona_model": OneOf(
                values=(
                    "style_persona",
                    "voice_persona",
                )
            ),
            "prompt": Text(),
            "style": Text(),
            "style_weight": Number(minimum=0, maximum=1),
            "vocal_gender": OneOf(
                values=(
                    "m",
                    "f",
                )
            ),
            "weirdness_constraint": Number(minimum=0, maximum=1),
        },
        price=PerRequest(credits=Decimal("8")),
        link_lifetime=timedelta(hours=72),
        notes=(
            "several songs per request, in result_data.songs[]",
            "duration only with custom mode on v5.5 (DOCS): not checked here",
            "one callback, at the terminal state (DOCS)",
        ),
    ),
)
