"""What every provider's protocol module does the same way, with no network in sight.

Checking a request against a :class:`~receiver.providers.models.ModelSpec` where providers
word it alike, and reading the fields of a task object that comes from outside: text a
database can store, numbers that fit, URLs worth fetching. What differs between providers
(their messages for durations and inputs, their wire shapes) stays in their own module.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from receiver.errors import ValidationError
from receiver.providers.base import JobRequest, MediaKind, TaskResult
from receiver.providers.models import ModelSpec

__all__ = [
    "SOUND_VALUES",
    "check_choice",
    "check_image_url",
    "check_sound",
    "check_whole_seconds",
    "checked_prompt",
    "clipped_text",
    "float_or_none",
    "int_or_none",
    "mapping",
    "results_of",
    "split_result_data",
    "storable",
    "task_results",
    "video_urls",
]

#: What ``sound`` may say, on every provider.
SOUND_VALUES = ("on", "off")
#: The longest text kept from a provider's free-text field (an error message).
TEXT_MAX_CHARS = 2000
#: The longest video URL kept.
URL_MAX_CHARS = 4096
#: The most results one task is taken to have (Midjourney's draft makes 24; more is junk).
RESULTS_MAX = 64
#: How deep ``result_data`` is searched for media URLs (Suno: ``result_data.songs[].audio_url``).
_RESULT_DATA_DEPTH = 4
#: The keys of ``result_data`` whose values are media to archive, and what they hold.
MEDIA_KEYS: Mapping[str, MediaKind] = MappingProxyType(
    {
        "video_url": "video",
        "video_urls": "video",
        "image_url": "image",
        "image_urls": "image",
        "audio_url": "audio",
        "audio_urls": "audio",
    }
)


# --- requests -------------------------------------------------------------------------


def checked_prompt(request: JobRequest, model: ModelSpec) -> str:
    """The prompt without surrounding spaces, within the model's limits."""
    prompt = request.prompt.strip()
    if not prompt:
        raise ValidationError("prompt", "must not be empty")
    limit = model.prompt_max_chars
    if len(prompt) > limit:
        raise ValidationError("prompt", f"is {len(prompt)} characters long; the limit is {limit}")
    negative = request.negative_prompt
    if negative is not None and len(negative) > model.negative_prompt_max_chars:
        raise ValidationError(
            "negative_prompt", f"the limit is {model.negative_prompt_max_chars} characters"
        )
    return prompt


def check_whole_seconds(duration: object) -> None:
    if isinstance(duration, bool) or not isinstance(duration, int):
        raise ValidationError("duration", "must be a whole number of seconds")


def check_choice(field: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValidationError(field, f"must be one of {', '.join(choices)}, got {value!r}")


def check_sound(sound: str | None, model: ModelSpec, *, hint: str = "") -> None:
    """``sound`` is "on", "off" or unset, and "on" only for a model that makes sound."""
    if sound is None:
        return
    if sound not in SOUND_VALUES:
        raise ValidationError("sound", f"must be 'on' or 'off', got {sound!r}")
    if sound == "on" and not model.sound:
        raise ValidationError("sound", f"{model.name} makes no sound{hint}")


def check_image_url(url: str, *, accepted_by: str) -> None:
    """An http(s) URL whose file name, if it has an extension, is a jpg or png.

    ``accepted_by`` names who refuses other formats ("the provider", "Kling").
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(
            "image_url", "must be an http(s) URL the provider can download the image from"
        )
    path = parts.path.lower()
    if "." in path.rsplit("/", 1)[-1] and not path.endswith((".jpg", ".jpeg", ".png")):
        raise ValidationError("image_url", f"{accepted_by} accepts jpg, jpeg and png images only")


# --- task objects ---------------------------------------------------------------------

_NOTHING: Mapping[str, Any] = MappingProxyType({})


def mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty mapping."""
    # JSON objects are dicts: the exact type test spares the ABC check, on every callback.
    if type(value) is dict or isinstance(value, Mapping):
        return value
    return _NOTHING


def storable(text: str) -> bool:
    """Text every database can store: valid UTF-8 and no NUL (PostgreSQL refuses both).

    ASCII text is valid UTF-8, and ``isascii`` is a flag read where encoding is a copy: the
    common case (ids, statuses, URLs) skips the encoding. ``tests/unit/test_protocol_common.py``
    holds it to the plain check.
    """
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clipped_text(text: str) -> str | None:
    """A free-text field cut to a length worth keeping, or None when it cannot be stored."""
    text = text[:TEXT_MAX_CHARS]
    return text if storable(text) else None


def int_or_none(value: object, *, limit: int = 10**9) -> int | None:
    """A JSON number as an int within ``-limit..limit``, else None."""
    # Bounded: a huge number would overflow an INTEGER column, Infinity would not convert.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value) if -limit <= value <= limit else None


def float_or_none(value: object) -> float | None:
    """A JSON number as a finite float of sane size, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) < 1e15 else None


def video_urls(candidates: Iterable[object]) -> tuple[str, ...]:
    """The http(s) URLs among ``candidates`` worth fetching and storing, in order, once each."""
    return tuple(
        dict.fromkeys(
            [
                url
                for url in candidates
                if isinstance(url, str)
                and url.startswith(("http://", "https://"))
                and len(url) <= URL_MAX_CHARS
                and storable(url)
            ]
        )
    )


def task_results(candidates: Iterable[tuple[object, MediaKind | None]]) -> tuple[TaskResult, ...]:
    """The results among ``(url, kind)`` candidates worth fetching: http(s) URLs of a
    storable size, in order, each once (a URL named twice keeps the first kind it was
    given), at most :data:`RESULTS_MAX`."""
    kinds: dict[str, MediaKind | None] = {}
    for url, kind in candidates:
        # The type first: a hostile body's result may be a list or an object, which a dict
        # cannot even be asked about (TypeError, not a refusal).
        if not isinstance(url, str):
            continue
        if url in kinds:
            kinds[url] = kinds[url] or kind
        elif (
            url.startswith(("http://", "https://"))
            and len(url) <= URL_MAX_CHARS
            and storable(url)
            and len(kinds) < RESULTS_MAX
        ):
            kinds[url] = kind
    return tuple(TaskResult(url=url, kind=kind) for url, kind in kinds.items())


def results_of(urls: list[object], kind: MediaKind | None) -> tuple[TaskResult, ...]:
    """``task_results`` of URLs that all have one ``kind`` (a task's ``results`` list, the
    common case on the callback path), without building a candidate per URL."""
    seen: dict[str, None] = {}
    for url in urls:
        if (
            type(url) is str
            and url not in seen
            and url.startswith(("http://", "https://"))
            and len(url) <= URL_MAX_CHARS
            and storable(url)
            and len(seen) < RESULTS_MAX
        ):
            seen[url] = None
    return tuple(TaskResult(url=url, kind=kind) for url in seen)


def split_result_data(
    value: object,
) -> tuple[list[tuple[object, MediaKind | None]], dict[str, Any] | None]:
    """A task's model-specific ``result_data`` split into its media (``(url, kind)``
    candidates, found under :data:`MEDIA_KEYS` at any depth, in document order) and the
    rest: the same object without those keys, a list (Seedream's layers) or a lone value
    as ``{"items": ...}`` or ``{"value": ...}``; None when nothing else is left."""
    media: list[tuple[object, MediaKind | None]] = []

    def walk(node: object, depth: int) -> Any:
        if depth > _RESULT_DATA_DEPTH:
            return node
        if isinstance(node, Mapping):
            rest = {}
            for key, item in node.items():
                kind = MEDIA_KEYS.get(key) if isinstance(key, str) else None
                if kind is None:
                    rest[key] = walk(item, depth + 1)
                elif isinstance(item, list):
                    media.extend((url, kind) for url in item)
                else:
                    media.append((item, kind))
            return rest
        if isinstance(node, list):
            return [walk(item, depth + 1) for item in node]
        return node

    rest = walk(value, 0)
    if rest in (None, {}, []):
        return media, None
    if isinstance(rest, list):
        return media, {"items": rest}
    return media, rest if isinstance(rest, dict) else {"value": rest}
