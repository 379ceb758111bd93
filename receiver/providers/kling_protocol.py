"""Kling AI Open Platform's rules and wire format, with no network in sight.

Shared by the client (to check a request before sending it) and by the simulator's Kling
dialect (to answer like the real API would). Our reading of Kling's API reference, and
every assumption made where it is silent, is written down in ``docs/providers.md``; what
each model accepts is its record in :mod:`receiver.providers.kling_models`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal

from receiver.errors import ValidationError
from receiver.providers import protocol_common as common
from receiver.providers.base import (
    JobRequest,
    TaskResult,
    TaskSnapshot,
    TaskStatus,
    decode_json_body,
)
from receiver.providers.kling_models import DEFAULT_MODEL, MODELS, resolve_model
from receiver.providers.models import ModelSpec

__all__ = [
    "ASPECT_RATIOS",
    "CALLBACK_URL_MAX_CHARS",
    "DEFAULT_MODEL",
    "ERROR_CODES",
    "KINDS",
    "MODELS",
    "MODES",
    "Kind",
    "kind_of",
    "model_spec",
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

#: The default model's, for what describes requests before a model is chosen.
ASPECT_RATIOS = MODELS[DEFAULT_MODEL].aspect_ratios
#: Our quality names to Kling's ``mode``: standard renders 720p, professional 1080p.
MODES: Mapping[str, str] = {"720p": "std", "1080p": "pro"}
#: Kling documents no limit; EvoLink's 2048 is assumed so both behave alike.
CALLBACK_URL_MAX_CHARS = 2048
EXTERNAL_TASK_ID_MAX_CHARS = 64

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


def model_spec(name: str | None, *, image: bool) -> ModelSpec:
    """The model a request names, or the default; the same for text and first frame."""
    del image  # one model_name serves both routes
    return resolve_model(name)


def kind_of(request: JobRequest) -> Kind:
    return "image2video" if request.image_url else "text2video"


def validate_request(request: JobRequest) -> JobRequest:
    """Check ``request`` by its model's rules; the model becomes Kling's ``model_name``."""
    model = resolve_model(request.model)
    prompt = common.checked_prompt(request, model)
    common.check_whole_seconds(request.duration)
    if request.duration not in model.durations:
        raise ValidationError(
            "duration",
            f"{model.name} makes videos of {model.durations.describe()}, got {request.duration}",
        )
    common.check_choice("aspect_ratio", request.aspect_ratio, model.aspect_ratios)
    common.check_choice("quality", request.quality, model.qualities)
    common.check_sound(request.sound, model, hint="; kling-v2-6 and up do")
    _check_input(model, request)
    return dataclasses.replace(request, prompt=prompt, model=model.name)


def _check_input(model: ModelSpec, request: JobRequest) -> None:
    """Text or a first frame, whichever the model takes."""
    if request.image_url:
        if not model.image_to_video:
            raise ValidationError("image_url", f"{model.name} does not animate images")
        common.check_image_url(request.image_url, accepted_by="Kling")
    elif not model.text_to_video:
        raise ValidationError(
            "image_url", f"{model.name} animates a first-frame image: give one with --image URL"
        )


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
    if not common.storable(task_id) or not common.storable(raw_status):
        raise ValueError("'task_id' and 'task_status' must be plain text")

    status = _STATUSES.get(raw_status.lower(), TaskStatus.UNKNOWN)
    message = _text_or_none(data.get("task_status_msg"))
    return TaskSnapshot(
        task_id=task_id,
        status=status,
        raw_status=raw_status[:64],
        progress=100 if status == TaskStatus.COMPLETED else None,
        results=_results(data),
        error_message=message if status == TaskStatus.FAILED else None,
        created_at=_timestamp_ms(data.get("created_at")),
        raw=data,
    )


def parse_task_json(body: bytes) -> TaskSnapshot:
    return parse_task(decode_json_body(body))


def _results(data: Mapping[str, Any]) -> tuple[TaskResult, ...]:
    result = data.get("task_result")
    videos = result.get("videos") if isinstance(result, Mapping) else None
    if not isinstance(videos, list):
        return ()
    return common.task_results(
        (video.get("url"), "video") for video in videos if isinstance(video, Mapping)
    )


def _text_or_none(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return common.clipped_text(value)


def _timestamp_ms(value: object) -> datetime | None:
    # Milliseconds since the epoch; bounded so that junk cannot overflow a datetime.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not 0 < value < 10**14:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)
