"""EvoLink's documented rules and wire format, with no network in sight.

Shared by the client (to check a request before sending it) and by the provider simulator
(to answer like the real API would), so both read the same documentation the same way.
Sources: the Kling 3.0 Turbo page and ``shared/reference/provider-protocol.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from receiver.errors import ValidationError
from receiver.providers.base import JobRequest, TaskSnapshot, TaskStatus, decode_json_body
from receiver.submission.shots import check_shots, shots_in_prompt

__all__ = [
    "ASPECT_RATIOS",
    "MODELS",
    "QUALITIES",
    "ModelInfo",
    "credits_for",
    "parse_task",
    "parse_task_json",
    "request_body",
    "validate_request",
]

PROMPT_MAX_CHARS = 2500
DURATION_RANGE = (3, 15)
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
QUALITIES = ("720p", "1080p")
SOUND_VALUES = ("on", "off")
CALLBACK_URL_MAX_CHARS = 2048
DEFAULT_TEXT_MODEL = "kling-v3-turbo-text-to-video"
DEFAULT_IMAGE_MODEL = "kling-v3-turbo-image-to-video"
#: Billing: per second of video, at least this many seconds, times the quality's multiplier.
MIN_BILLED_SECONDS = 3
QUALITY_MULTIPLIERS: Mapping[str, Decimal] = {"720p": Decimal("1"), "1080p": Decimal("1.25")}


@dataclass(frozen=True)
class ModelInfo:
    name: str
    image_to_video: bool
    #: Base price in credits per second of 720p video; 1080p costs 1.25x.
    credits_per_second: float


MODELS: Mapping[str, ModelInfo] = {
    info.name: info
    for info in (
        ModelInfo("kling-v3-turbo-text-to-video", False, 7.2),
        ModelInfo("kling-v3-turbo-image-to-video", True, 7.2),
        ModelInfo("kling-v3-text-to-video", False, 7.2),
        ModelInfo("kling-v3-image-to-video", True, 7.2),
    )
}

# The statuses EvoLink documents; a callback also fires on cancellation, so we accept the
# spellings we can expect and treat anything else as UNKNOWN rather than crash.
_STATUSES = {
    "pending": TaskStatus.PENDING,
    "queued": TaskStatus.PENDING,
    "processing": TaskStatus.PROCESSING,
    "running": TaskStatus.PROCESSING,
    "completed": TaskStatus.COMPLETED,
    "succeeded": TaskStatus.COMPLETED,
    "failed": TaskStatus.FAILED,
    "cancelled": TaskStatus.CANCELLED,
    "canceled": TaskStatus.CANCELLED,
}


def validate_request(request: JobRequest) -> JobRequest:
    """Check ``request`` by the documented rules and fill in the model when it is implied."""
    prompt = request.prompt.strip()
    if not prompt:
        raise ValidationError("prompt", "must not be empty")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise ValidationError(
            "prompt", f"is {len(prompt)} characters long; the limit is {PROMPT_MAX_CHARS}"
        )
    if request.negative_prompt is not None and len(request.negative_prompt) > PROMPT_MAX_CHARS:
        raise ValidationError("negative_prompt", f"the limit is {PROMPT_MAX_CHARS} characters")

    model = request.model or (DEFAULT_IMAGE_MODEL if request.image_url else DEFAULT_TEXT_MODEL)
    info = MODELS.get(model)
    if info is None:
        raise ValidationError(
            "model", f"unknown model {model!r}; known models: {', '.join(sorted(MODELS))}"
        )

    low, high = DURATION_RANGE
    if isinstance(request.duration, bool) or not isinstance(request.duration, int):
        raise ValidationError("duration", "must be a whole number of seconds")
    if not low <= request.duration <= high:
        raise ValidationError(
            "duration", f"must be between {low} and {high} seconds, got {request.duration}"
        )
    # Shots written in the prompt (by hand or by --shot) must follow the provider's rules too.
    check_shots(shots_in_prompt(prompt), request.duration, field="prompt")
    if request.aspect_ratio not in ASPECT_RATIOS:
        raise ValidationError(
            "aspect_ratio",
            f"must be one of {', '.join(ASPECT_RATIOS)}, got {request.aspect_ratio!r}",
        )
    if request.quality not in QUALITIES:
        raise ValidationError(
            "quality", f"must be one of {', '.join(QUALITIES)}, got {request.quality!r}"
        )
    if request.sound is not None and request.sound not in SOUND_VALUES:
        raise ValidationError("sound", f"must be 'on' or 'off', got {request.sound!r}")

    if info.image_to_video:
        if not request.image_url:
            raise ValidationError(
                "image_url", f"{model} animates a first-frame image: give one with --image URL"
            )
        _check_image_url(request.image_url)
    elif request.image_url:
        raise ValidationError(
            "image_url",
            f"{model} is text-to-video and takes no image; use {DEFAULT_IMAGE_MODEL} "
            "(or leave out --model)",
        )
    return dataclasses.replace(request, prompt=prompt, model=model)


def credits_for(request: JobRequest) -> float:
    """What a validated request costs in credits, by the documented billing rule.

    Per second of video at the model's 720p rate, never fewer than 3 seconds, times 1.25 for
    1080p: 5 s at 720p is 36 credits, 5 s at 1080p 45. Decimal arithmetic, so that
    7 x 7.2 is 50.4 and not 50.400000000000006.
    """
    if request.model is None:
        raise ValueError("the request must be validated first (its model filled in)")
    rate = Decimal(str(MODELS[request.model].credits_per_second))
    seconds = max(request.duration, MIN_BILLED_SECONDS)
    return float((rate * seconds * QUALITY_MULTIPLIERS[request.quality]).quantize(Decimal("0.01")))


def _check_image_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(
            "image_url", "must be an http(s) URL the provider can download the image from"
        )
    path = parts.path.lower()
    if "." in path.rsplit("/", 1)[-1] and not path.endswith((".jpg", ".jpeg", ".png")):
        raise ValidationError("image_url", "the provider accepts jpg, jpeg and png images only")


def request_body(request: JobRequest, *, callback_url: str) -> dict[str, Any]:
    """The JSON body of ``POST /v1/videos/generations`` for a validated request."""
    body: dict[str, Any] = {
        "model": request.model,
        "prompt": request.prompt,
        "duration": request.duration,
        "quality": request.quality,
        "callback_url": callback_url,
    }
    if request.image_url:
        # Image-to-video takes its aspect ratio from the first frame.
        body["image_start"] = request.image_url
    else:
        body["aspect_ratio"] = request.aspect_ratio
    if request.negative_prompt:
        body["negative_prompt"] = request.negative_prompt
    if request.sound:
        body["sound"] = request.sound
    return body


def parse_task(data: Any) -> TaskSnapshot:
    """A task object (create answer, task query or callback body) as a snapshot.

    Raises ``ValueError`` when ``data`` is not a task object at all.
    """
    if type(data) is not dict and not isinstance(data, Mapping):
        raise ValueError("expected a JSON object")
    task_id = data.get("id")
    if not isinstance(task_id, str) or not task_id or len(task_id) > 200:
        raise ValueError("'id' must be a non-empty string")
    raw_status = data.get("status")
    if not isinstance(raw_status, str) or not raw_status:
        raise ValueError("'status' must be a non-empty string")
    if not _storable(task_id) or not _storable(raw_status):
        raise ValueError("'id' and 'status' must be plain text")

    error = _mapping(data.get("error"))
    task_info = _mapping(data.get("task_info"))
    usage = _mapping(data.get("usage"))
    return TaskSnapshot(
        task_id=task_id,
        status=_STATUSES.get(raw_status.lower(), TaskStatus.UNKNOWN),
        raw_status=raw_status[:64],
        progress=_progress(data.get("progress")),
        video_urls=_video_urls(data),
        error_code=_str_or_none(error.get("code")),
        error_message=_str_or_none(error.get("message")),
        model=_str_or_none(data.get("model")),
        created_at=_timestamp(data.get("created")),
        estimated_seconds=_int_or_none(task_info.get("estimated_time")),
        credits_reserved=_float_or_none(usage.get("credits_reserved")),
        raw=data,
    )


def parse_task_json(body: bytes) -> TaskSnapshot:
    return parse_task(decode_json_body(body))


def _video_urls(data: Mapping[str, Any]) -> tuple[str, ...]:
    urls: list[str] = []
    results = data.get("results")
    if isinstance(results, list):
        urls = [item for item in results if isinstance(item, str)]
    # Some public client code reads result_data[].video_url instead.
    result_data = data.get("result_data")
    if isinstance(result_data, list):
        urls.extend(
            item["video_url"]
            for item in result_data
            if isinstance(item, Mapping) and isinstance(item.get("video_url"), str)
        )
    return tuple(
        dict.fromkeys(
            [
                url
                for url in urls
                if url.startswith(("http://", "https://")) and len(url) <= 4096 and _storable(url)
            ]
        )
    )


_NOTHING: Mapping[str, Any] = MappingProxyType({})


def _mapping(value: object) -> Mapping[str, Any]:
    # JSON objects are dicts: the exact type test spares the ABC check, on every callback.
    if type(value) is dict or isinstance(value, Mapping):
        return value
    return _NOTHING


def _storable(text: str) -> bool:
    """Text every database can store: valid UTF-8 and no NUL (PostgreSQL refuses both)."""
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _int_or_none(value: object, *, limit: int = 10**9) -> int | None:
    # Bounded: a huge number would overflow an INTEGER column, Infinity would not convert.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value) if -limit <= value <= limit else None


def _progress(value: object) -> int | None:
    progress = _int_or_none(value)
    return progress if progress is not None and 0 <= progress <= 100 else None


def _float_or_none(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and abs(number) < 1e15 else None


def _str_or_none(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)[:2000]
    return text if _storable(text) else None


def _timestamp(value: object) -> datetime | None:
    number = _int_or_none(value, limit=10**12)
    if number is None or number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
