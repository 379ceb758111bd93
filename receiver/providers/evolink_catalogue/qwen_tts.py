"""Qwen voice design and TTS (reference section 2.2).

Read from ``shared/reference/evolink-catalogue.md`` (prose, prices as PRICE) and
``shared/reference/evolink-request-schemas.json`` (each model's request schema): each entry's
fields are the schema's, tightened where the prose says more (a comment says so).
"""

from __future__ import annotations

from receiver.providers.evolink_catalogue.entry import Entry
from receiver.providers.evolink_catalogue.rules import OneOf, Text

__all__ = ["ENTRIES"]

ENTRIES: tuple[Entry, ...] = (
    Entry(
        model="qwen-voice-design",
        kind="audio",
        page="audio-series/qwen-tts/qwen-voice-design",
        fields={
            "language": OneOf(
                values=(
                    "zh",
                    "en",
                    "ja",
                    "ko",
                    "de",
                    "fr",
                    "it",
                    "ru",
                    "pt",
                    "es",
                )
            ),
            "preferred_name": Text(max_chars=16),
            "preview_text": Text(max_chars=1024),
            "response_format": OneOf(
                values=(
                    "pcm",
                    "wav",
                    "mp3",
                    "opus",
                )
            ),
            "sample_rate": OneOf(
                values=(
                    8000,
                    16000,
                    24000,
                    48000,
                )
            ),
            "target_model": OneOf(
                values=(
                    "qwen3-tts-vd-2026-01-26",
                    "qwen3-tts-vd-realtime-2026-01-15",
                    "qwen3-tts-vd-realtime-2025-12-16",
                ),
                default="qwen3-tts-vd-2026-01-26",
            ),
            "voice_prompt": Text(max_chars=2048),
        },
        required=(
            "voice_prompt",
            "preview_text",
            "preferred_name",
        ),
        notes=("returns result_data.voice and a preview clip",),
    ),
    Entry(
        model="qwen3-tts-vd",
        kind="audio",
        page="audio-series/qwen-tts/qwen3-tts-vd",
        fields={
            "language_type": OneOf(
                values=(
                    "Auto",
                    "Chinese",
                    "English",
                    "Japanese",
                    "Korean",
                    "French",
                    "German",
                    "Spanish",
                    "Italian",
                    "Russian",
                    "Portuguese",
                )
            ),
            "prompt": Text(max_chars=600),
            "voice": Text(),
        },
        required=(
            "prompt",
            "voice",
        ),
    ),
)
