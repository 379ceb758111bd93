"""EvoLink's documented rules and wire format, with no network in sight.

Shared by the client (to check a request before sending it) and by the provider simulator
(to answer like the real API would), so both read the same documentation the same way.
Sources: the Kling 3.0 Turbo page and ``shared/reference/provider-protocol.md``; what each
model accepts and costs is its record in :mod:`receiver.providers.evolink_models`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from receiver.errors import ValidationError
from receiver.providers import protocol_common as common
from receiver.providers.base import (
    JobRequest,
    MediaKind,
    TaskResult,
    TaskSnapshot,
    TaskStatus,
    decode_json_body,
)
from receiver.providers.evolink_catalogue import CATALOGUE, ENDPOINTS
from receiver.providers.evolink_catalogue import validation as catalogue
from receiver.providers.evolink_models import (
    DEFAULT_IMAGE_MODEL,
    DEFAULT_TEXT_MODEL,
    MODELS,
    by_catalogue,
    model_spec,
)
from receiver.providers.protocol_common import SOUND_VALUES
from receiver.providers.shots import check_shots, shots_in_prompt

__all__ = [
    "ASPECT_RATIOS",
    "CALLBACK_URL_MAX_CHARS",
    "DEFAULT_IMAGE_MODEL",
    "DEFAULT_TEXT_MODEL",
    "DURATION_RANGE",
    "MODELS",
    "PROMPT_MAX_CHARS",
    "QUALITIES",
    "SOUND_VALUES",
    "catalogue_credits",
    "credits_for",
    "endpoint_for",
    "model_spec",
    "parse_task",
    "parse_task_json",
    "request_body",
    "validate_request",
]

CALLBACK_URL_MAX_CHARS = 2048

# The default model's limits, for what describes requests before a model is chosen (the
# API's schema): every model EvoLink serves us today has the same.
_DEFAULT = MODELS[DEFAULT_TEXT_MODEL]
PROMPT_MAX_CHARS = _DEFAULT.prompt_max_chars
DURATION_RANGE = (_DEFAULT.durations.low, _DEFAULT.durations.high)
ASPECT_RATIOS = _DEFAULT.aspect_ratios
QUALITIES = _DEFAULT.qualities

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
    """Check ``request`` by its model's rules and fill in the model when it is implied.

    The four Kling models of :mod:`~receiver.providers.evolink_models` are checked by their
    named fields; every other model by its catalogue entry, on the body's fields
    (``request.params``); a model in neither only with ``allow_unknown_model``.
    """
    if by_catalogue(request.model):
        return _validate_by_catalogue(request)
    if request.params:
        raise ValidationError(
            next(iter(request.params)),
            f"{request.model or DEFAULT_TEXT_MODEL} takes its fields from the named options "
            "(prompt, duration, quality, ...), not as extra fields",
        )
    model = model_spec(request.model, image=bool(request.image_url))
    prompt = common.checked_prompt(request, model)
    common.check_whole_seconds(request.duration)
    if request.duration not in model.durations:
        raise ValidationError(
            "duration", f"must be {model.durations.describe()}, got {request.duration}"
        )
    # Shots written in the prompt (by hand or by --shot) must follow the provider's rules too.
    check_shots(
        shots_in_prompt(prompt), request.duration, field="prompt", max_shots=model.max_shots
    )
    common.check_choice("aspect_ratio", request.aspect_ratio, model.aspect_ratios)
    common.check_choice("quality", request.quality, model.qualities)
    common.check_sound(request.sound, model)

    if model.image_to_video:
        if not request.image_url:
            raise ValidationError(
                "image_url", f"{model.name} animates a first-frame image: give one with --image URL"
            )
        common.check_image_url(request.image_url, accepted_by="the provider")
    elif request.image_url:
        raise ValidationError(
            "image_url",
            f"{model.name} is text-to-video and takes no image; use {DEFAULT_IMAGE_MODEL} "
            "(or leave out --model)",
        )
    return dataclasses.replace(request, prompt=prompt, model=model.name)


def _validate_by_catalogue(request: JobRequest) -> JobRequest:
    assert request.model is not None  # by_catalogue() says so
    entry = CATALOGUE.get(request.model)
    if entry is None:
        if not request.allow_unknown_model:
            raise ValidationError(
                "model",
                f"unknown model {request.model!r}: not among the {len(CATALOGUE)} models "
                "`receiver models` lists; to send it anyway, unchecked and unpriced, pass "
                "--allow-unknown-model (its fields with --param KEY=VALUE)",
            )
        catalogue.unknown_model_body(request.model, request.params, callback_url="")
        return request
    body = catalogue.check_fields(entry, request.params)
    prompt = body.get("prompt")
    return dataclasses.replace(
        request, prompt=prompt.strip() if isinstance(prompt, str) else "", params=body
    )


def catalogue_credits(request: JobRequest) -> float | None:
    """What a validated request for a catalogue model costs, or None (unpriced, unknown)."""
    entry = CATALOGUE.get(request.model or "")
    return None if entry is None else catalogue.credits_for(entry, request.params)


def endpoint_for(request: JobRequest) -> str:
    """Where a validated request is created: its kind's endpoint (video for an unknown
    model, the kind EvoLink's unified API serves most)."""
    entry = CATALOGUE.get(request.model or DEFAULT_TEXT_MODEL)
    return entry.endpoint if entry is not None else ENDPOINTS["video"]


def credits_for(request: JobRequest) -> float:
    """What a validated request costs in credits, by its model's price rule.

    Per second of video at the model's 720p rate, never fewer than 3 seconds, times 1.25 for
    1080p: 5 s at 720p is 36 credits, 5 s at 1080p 45.
    """
    if request.model is None:
        raise ValueError("the request must be validated first (its model filled in)")
    if by_catalogue(request.model):
        credits = catalogue_credits(request)
        if credits is None:
            raise ValueError(f"{request.model} has no price")
        return credits
    price = MODELS[request.model].price
    if price is None:
        raise ValueError(f"{request.model} has no price")
    return price.credits(duration=request.duration, quality=request.quality)


def request_body(request: JobRequest, *, callback_url: str) -> dict[str, Any]:
    """The JSON body of ``POST`` :func:`endpoint_for` for a validated request."""
    if by_catalogue(request.model):
        assert request.model is not None
        entry = CATALOGUE.get(request.model)
        if entry is None:
            return catalogue.unknown_model_body(
                request.model, request.params, callback_url=callback_url
            )
        return catalogue.request_body(entry, request.params, callback_url=callback_url)
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
    if not common.storable(task_id) or not common.storable(raw_status):
        raise ValueError("'id' and 'status' must be plain text")

    error = common.mapping(data.get("error"))
    task_info = common.mapping(data.get("task_info"))
    usage = common.mapping(data.get("usage"))
    results, result_data = _results(data)
    return TaskSnapshot(
        task_id=task_id,
        status=_STATUSES.get(raw_status.lower(), TaskStatus.UNKNOWN),
        raw_status=raw_status[:64],
        progress=_progress(data.get("progress")),
        results=results,
        result_data=result_data,
        error_code=_str_or_none(error.get("code")),
        error_message=_str_or_none(error.get("message")),
        model=_str_or_none(data.get("model")),
        created_at=_timestamp(data.get("created")),
        estimated_seconds=common.int_or_none(task_info.get("estimated_time")),
        credits_reserved=common.float_or_none(usage.get("credits_reserved")),
        raw=data,
    )


def parse_task_json(body: bytes) -> TaskSnapshot:
    return parse_task(decode_json_body(body))


def _results(data: Mapping[str, Any]) -> tuple[tuple[TaskResult, ...], Any]:
    """Every file of the task (the URLs of ``results``, then the media URLs the model put in
    ``result_data``: Suno's songs, a voice's preview clip), and what else ``result_data``
    holds (an element id, a persona, the songs' titles)."""
    results = data.get("results")
    result_data = data.get("result_data")
    kind = _task_kind(data) if isinstance(results, list) else None
    if result_data is None:
        # Nearly every task: its files are its results, all of the task's kind.
        return (common.results_of(results, kind) if isinstance(results, list) else ()), None
    candidates: list[tuple[object, MediaKind | None]] = []
    if isinstance(results, list):
        candidates = [(url, kind) for url in results]
    media, rest = common.split_result_data(result_data)
    return common.task_results([*candidates, *media]), rest


def _task_kind(data: Mapping[str, Any]) -> MediaKind | None:
    """What the task's ``results`` are: its ``type``, or its ``object``
    (``image.generation.task``); None when it says neither."""
    stated = data.get("type")
    if not isinstance(stated, str):
        task_object = data.get("object")
        stated = task_object.split(".", 1)[0] if isinstance(task_object, str) else None
    return _KINDS.get(stated) if stated is not None else None


_KINDS: dict[str, MediaKind] = {"video": "video", "image": "image", "audio": "audio"}


def _progress(value: object) -> int | None:
    progress = common.int_or_none(value)
    return progress if progress is not None and 0 <= progress <= 100 else None


def _str_or_none(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return common.clipped_text(str(value))


def _timestamp(value: object) -> datetime | None:
    # Seconds since the epoch.
    number = common.int_or_none(value, limit=10**12)
    if number is None or number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
