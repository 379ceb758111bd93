"""Kling AI Open Platform's rules and wire format, with no network in sight.

Shared by the client (to check a request before sending it) and by the simulator's Kling
dialect (to answer like the real API would). Our reading of Kling's API reference, and
every assumption made where it is silent, is written down in ``docs/providers.md``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from receiver.errors import ValidationError
from receiver.providers.base import JobRequest, TaskSnapshot, TaskStatus, decode_json_body

__all__ = [
    "ASPECT_RATIOS",
    "CALLBACK_URL_MAX_CHARS",
    "DEFAULT_MODEL",
    "ERROR_CODES",
    "KINDS",
    "MODELS",
    "MODES",
    "Kind",
    "KlingModel",
    "kind_of",
    "parse_task",
    "parse_task_json",
    "request_body",
    "resolve_model",
    "task_data",
    "validate_request",
]

Kind = Literal["text2video", "image2video"]
#: The two creation routes, ``/v1/videos/<kind>``; each task is queried on its own route.
KINDS: tuple[Kind, ...] = ("text2video", "image2video")

PROMPT_MAX_CHARS = 2500
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
#: Our quality names to Kling's ``mode``: standard renders 720p, professional 1080p.
MODES: Mapping[str, str] = {"720p": "std", "1080p": "pro"}
SOUND_VALUES = ("on", "off")
#: Kling documents no limit; EvoLink's 2048 is assumed so both behave alike.
CALLBACK_URL_MAX_CHARS = 2048
EXTERNAL_TASK_ID_MAX_CHARS = 64
DEFAULT_MODEL = "kling-v3"


@dataclass(frozen=True)
class KlingModel:
    """One ``model_name`` and what Kling lets it do."""

    name: str
    text_to_video: bool
    image_to_video: bool
    durations: tuple[int, ...]
    sound: bool = False

    def describe_durations(self) -> str:
        low, high = self.durations[0], self.durations[-1]
        if self.durations == tuple(range(low, high + 1)):
            return f"between {low} and {high} seconds"
        return " or ".join(str(d) for d in self.durations) + " seconds"


_FIVE_OR_TEN = (5, 10)
MODELS: Mapping[str, KlingModel] = {
    model.name: model
    for model in (
        KlingModel("kling-v1", True, True, _FIVE_OR_TEN),
        KlingModel("kling-v1-5", False, True, _FIVE_OR_TEN),
        KlingModel("kling-v1-6", True, True, _FIVE_OR_TEN),
        KlingModel("kling-v2-master", True, True, _FIVE_OR_TEN),
        KlingModel("kling-v2-1", False, True, _FIVE_OR_TEN),
        KlingModel("kling-v2-1-master", True, True, _FIVE_OR_TEN),
        KlingModel("kling-v2-5-turbo", True, True, _FIVE_OR_TEN),
        KlingModel("kling-v2-6", True, True, _FIVE_OR_TEN, sound=True),
        KlingModel("kling-v3", True, True, tuple(range(3, 16)), sound=True),
    )
}
# EvoLink's names for the same Kling models, so a job can switch providers unchanged. Its
# Turbo variants have no counterpart we could confirm on Kling's own API: they are refused
# with a pointer rather than silently swapped for a different model.
_ALIASES: Mapping[str, str] = {
    "kling-v3-text-to-video": "kling-v3",
    "kling-v3-image-to-video": "kling-v3",
}

_STATUSES: Mapping[str, TaskStatus] = {
    "submitted": TaskStatus.PENDING,
    "processing": TaskStatus.PROCESSING,
    "succeed": TaskStatus.COMPLETED,
    "failed": TaskStatus.FAILED,
}

#: Kling's error codes: code -> (HTTP status, meaning), from its general API reference.
ERROR_CODES: Mapping[int, tuple[int, str]] = {
    1000: (401, "authentication failed"),
    1001: (401, "authorization is empty"),
    1002: (401, "authorization is invalid"),
    1003: (401, "authorization is not yet valid"),
    1004: (401, "authorization has expired"),
    1100: (429, "account exception"),
    1101: (429, "account in arrears"),
    1102: (429, "resource pack depleted or expired"),
    1103: (403, "no permission for this resource"),
    1200: (400, "invalid request parameters"),
    1201: (400, "invalid parameter value"),
    1202: (404, "invalid request method"),
    1203: (404, "the requested resource does not exist"),
    1300: (400, "platform policy triggered"),
    1301: (400, "content security policy triggered"),
    1302: (429, "rate limit exceeded"),
    1303: (429, "concurrency or QPS over the resource pack limit"),
    1304: (429, "IP whitelist policy triggered"),
    5000: (500, "server error"),
    5001: (503, "server unavailable"),
    5002: (504, "server timeout"),
}


def resolve_model(name: str | None) -> KlingModel:
    """The Kling model a request names (ours or EvoLink's spelling), or the default."""
    model_name = _ALIASES.get(name, name) if name else DEFAULT_MODEL
    model = MODELS.get(model_name)
    if model is not None:
        return model
    hint = ""
    if name and name.startswith("kling-v3-turbo"):
        hint = " (EvoLink's Turbo models have no Kling API counterpart we know of: use kling-v3)"
    raise ValidationError(
        "model", f"unknown Kling model {name!r}{hint}; known models: {', '.join(MODELS)}"
    )


def kind_of(request: JobRequest) -> Kind:
    return "image2video" if request.image_url else "text2video"


def validate_request(request: JobRequest) -> JobRequest:
    """Check ``request`` by Kling's rules; the model becomes Kling's ``model_name``."""
    prompt = _checked_prompt(request)
    model = resolve_model(request.model)
    if isinstance(request.duration, bool) or not isinstance(request.duration, int):
        raise ValidationError("duration", "must be a whole number of seconds")
    if request.duration not in model.durations:
        raise ValidationError(
            "duration",
            f"{model.name} makes videos of {model.describe_durations()}, got {request.duration}",
        )
    if request.aspect_ratio not in ASPECT_RATIOS:
        raise ValidationError(
            "aspect_ratio",
            f"must be one of {', '.join(ASPECT_RATIOS)}, got {request.aspect_ratio!r}",
        )
    if request.quality not in MODES:
        raise ValidationError(
            "quality", f"must be one of {', '.join(MODES)}, got {request.quality!r}"
        )
    if request.sound is not None:
        if request.sound not in SOUND_VALUES:
            raise ValidationError("sound", f"must be 'on' or 'off', got {request.sound!r}")
        if request.sound == "on" and not model.sound:
            raise ValidationError("sound", f"{model.name} makes no sound; kling-v2-6 and up do")
    _check_input(model, request)
    return dataclasses.replace(request, prompt=prompt, model=model.name)


def _checked_prompt(request: JobRequest) -> str:
    prompt = request.prompt.strip()
    if not prompt:
        raise ValidationError("prompt", "must not be empty")
    if len(prompt) > PROMPT_MAX_CHARS:
        raise ValidationError(
            "prompt", f"is {len(prompt)} characters long; the limit is {PROMPT_MAX_CHARS}"
        )
    if request.negative_prompt is not None and len(request.negative_prompt) > PROMPT_MAX_CHARS:
        raise ValidationError("negative_prompt", f"the limit is {PROMPT_MAX_CHARS} characters")
    return prompt


def _check_input(model: KlingModel, request: JobRequest) -> None:
    """Text or a first frame, whichever the model takes."""
    if request.image_url:
        if not model.image_to_video:
            raise ValidationError("image_url", f"{model.name} does not animate images")
        _check_image_url(request.image_url)
    elif not model.text_to_video:
        raise ValidationError(
            "image_url", f"{model.name} animates a first-frame image: give one with --image URL"
        )


def _check_image_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValidationError(
            "image_url", "must be an http(s) URL the provider can download the image from"
        )
    path = parts.path.lower()
    if "." in path.rsplit("/", 1)[-1] and not path.endswith((".jpg", ".jpeg", ".png")):
        raise ValidationError("image_url", "Kling accepts jpg, jpeg and png images only")


def request_body(
    request: JobRequest, *, callback_url: str, external_task_id: str
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/videos/<kind>`` for a validated request."""
    if len(external_task_id) > EXTERNAL_TASK_ID_MAX_CHARS:
        raise ValidationError("external_task_id", "is too long for Kling")
    body: dict[str, Any] = {
        "model_name": request.model,
        "prompt": request.prompt,
        # Kling takes the duration as a string.
        "duration": str(request.duration),
        "mode": MODES[request.quality],
        "callback_url": callback_url,
        "external_task_id": external_task_id,
    }
    if request.image_url:
        # Image-to-video takes its aspect ratio from the image.
        body["image"] = request.image_url
    else:
        body["aspect_ratio"] = request.aspect_ratio
    if request.negative_prompt:
        body["negative_prompt"] = request.negative_prompt
    if request.sound:
        body["sound"] = request.sound
    return body


def task_data(document: Any) -> Any:
    """The task object of an answer or callback: its ``data`` if wrapped in Kling's envelope.

    Answers come as ``{code, message, request_id, data}``; callbacks are documented as the
    bare task object, but a wrapped one is accepted too, since public accounts differ.
    """
    if isinstance(document, Mapping) and "task_id" not in document:
        data = document.get("data")
        if isinstance(data, Mapping):
            return data
    return document


def parse_task(data: Any) -> TaskSnapshot:
    """A task object (create answer's ``data``, task query or callback body) as a snapshot.

    Raises ``ValueError`` when ``data`` is not a task object at all.
    """
    data = task_data(data)
    if not isinstance(data, Mapping):
        raise ValueError("expected a JSON object")
    task_id = data.get("task_id")
    if isinstance(task_id, int) and not isinstance(task_id, bool):
        task_id = str(task_id)
    if not isinstance(task_id, str) or not task_id or len(task_id) > 200:
        raise ValueError("'task_id' must be a non-empty string")
    raw_status = data.get("task_status")
    if not isinstance(raw_status, str) or not raw_status:
        raise ValueError("'task_status' must be a non-empty string")
    if not _storable(task_id) or not _storable(raw_status):
        raise ValueError("'task_id' and 'task_status' must be plain text")

    status = _STATUSES.get(raw_status.lower(), TaskStatus.UNKNOWN)
    message = _text_or_none(data.get("task_status_msg"))
    return TaskSnapshot(
        task_id=task_id,
        status=status,
        raw_status=raw_status[:64],
        progress=100 if status == TaskStatus.COMPLETED else None,
        video_urls=_video_urls(data),
        error_message=message if status == TaskStatus.FAILED else None,
        created_at=_timestamp_ms(data.get("created_at")),
        raw=data,
    )


def parse_task_json(body: bytes) -> TaskSnapshot:
    return parse_task(decode_json_body(body))


def _video_urls(data: Mapping[str, Any]) -> tuple[str, ...]:
    result = data.get("task_result")
    videos = result.get("videos") if isinstance(result, Mapping) else None
    if not isinstance(videos, list):
        return ()
    urls = (video.get("url") for video in videos if isinstance(video, Mapping))
    return tuple(
        dict.fromkeys(
            url
            for url in urls
            if isinstance(url, str)
            and url.startswith(("http://", "https://"))
            and len(url) <= 4096
            and _storable(url)
        )
    )


def _storable(text: str) -> bool:
    """Text every database can store: valid UTF-8 and no NUL (PostgreSQL refuses both)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    text = value[:2000]
    return text if _storable(text) else None


def _timestamp_ms(value: object) -> datetime | None:
    # Milliseconds since the epoch; bounded so that junk cannot overflow a datetime.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not 0 < value < 10**14:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)
