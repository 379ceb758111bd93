"""The JSON schemas of the OpenAPI description (:mod:`receiver.web.openapi`).

They describe what :mod:`receiver.presenters` and the handlers write, field by field, with
the fields every answer has marked required; Schemathesis checks real answers against them.
"""

from __future__ import annotations

from typing import Any

from receiver.lifecycle import DeliveryOutcome, JobStatus
from receiver.providers import PROVIDER_NAMES
from receiver.providers.evolink_protocol import (
    ASPECT_RATIOS,
    DURATION_RANGE,
    PROMPT_MAX_CHARS,
    QUALITIES,
    SOUND_VALUES,
)

__all__ = ["SCHEMAS"]

_STRING = {"type": "string"}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}
_INTEGER = {"type": "integer"}
_NUMBER_OR_NULL = {"type": ["number", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


_ASSET = _object(
    ["uri", "bucket", "key", "size_bytes", "sha256", "content_type", "stored_at"],
    uri=_STRING,
    result_index={
        **_INTEGER,
        "description": "Which result of the provider's task this file is (0 for the first)",
    },
    bucket=_STRING,
    key=_STRING,
    size_bytes=_INTEGER,
    sha256=_STRING,
    content_type=_STRING,
    stored_at=_TIME,
    duration_seconds=_NUMBER_OR_NULL,
    width={"type": ["integer", "null"]},
    height={"type": ["integer", "null"]},
    codec=_TEXT_OR_NULL,
)

_JOB = _object(
    ["id", "provider", "status", "model", "prompt", "params", "created_at", "updated_at", "asset"],
    id=_STRING,
    provider={"enum": list(PROVIDER_NAMES)},
    task_id=_TEXT_OR_NULL,
    status={"enum": list(JobStatus)},
    provider_status=_TEXT_OR_NULL,
    model=_STRING,
    prompt=_STRING,
    params={"type": "object"},
    progress={"type": ["integer", "null"]},
    error={
        "type": ["object", "null"],
        "properties": {"code": _TEXT_OR_NULL, "message": _TEXT_OR_NULL},
    },
    attention={**_TEXT_OR_NULL, "description": "Why a person should look at the job"},
    estimated_seconds={"type": ["integer", "null"]},
    credits_reserved={**_NUMBER_OR_NULL, "description": "What the provider reserved"},
    credits_estimated={
        **_NUMBER_OR_NULL,
        "description": "Our estimate from the price table before submitting (null: unpriced)",
    },
    created_at=_TIME,
    submitted_at=_TIME_OR_NULL,
    finished_at=_TIME_OR_NULL,
    stored_at=_TIME_OR_NULL,
    updated_at=_TIME,
    asset={"oneOf": [{"type": "null"}, _ref("Asset")]},
)

_SHOT = {
    "oneOf": [
        {"type": "string", "description": "SECONDS:TEXT"},
        _object(["seconds", "text"], seconds={"type": "integer", "minimum": 1}, text=_STRING),
    ]
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        **_object(["error", "message"], error=_STRING, message=_STRING, field=_STRING),
        "description": "Every error answer; `field` names a bad parameter or body field",
    },
    "NotStored": _object(
        ["error", "status", "message"],
        error={"const": "not_stored"},
        status={"enum": list(JobStatus)},
        message=_STRING,
    ),
    "Readiness": _object(
        ["status"], status={"enum": ["ready", "not_ready"]}, database=_STRING, bucket=_STRING
    ),
    "JobRequest": {
        "type": "object",
        "description": "A prompt, shots, or both",
        "additionalProperties": False,
        "properties": {
            "prompt": {"type": "string", "maxLength": PROMPT_MAX_CHARS},
            "shots": {
                "type": "array",
                "maxItems": 6,
                "description": "Multi-shot: seconds adding up to duration (its default)",
                "items": _SHOT,
            },
            "dry_run": {
                "type": "boolean",
                "description": "Check and price the job; submit nothing",
            },
            "model": _STRING,
            "duration": {
                "type": "integer",
                "minimum": DURATION_RANGE[0],
                "maximum": DURATION_RANGE[1],
            },
            "aspect_ratio": {"enum": list(ASPECT_RATIOS)},
            "quality": {"enum": list(QUALITIES)},
            "image_url": {
                "type": "string",
                "format": "uri",
                "description": "the first frame: an https URL the provider can fetch, or the "
                "image itself as data:image/png;base64,... or data:image/jpeg;base64,... "
                "(checked, then staged in the bucket like a local file from the CLI)",
            },
            "negative_prompt": _STRING,
            "sound": {"enum": list(SOUND_VALUES)},
            "provider": {"enum": list(PROVIDER_NAMES), "default": "evolink"},
        },
    },
    "Budget": {
        "type": ["object", "null"],
        "description": "Today's budget (RECEIVER_MAX_CREDITS_PER_DAY); null without one",
        "properties": {
            "limit": {"type": "number"},
            "spent_today": {"type": "number"},
            "remaining": {"type": "number"},
        },
    },
    "Estimate": _object(
        ["dry_run", "provider", "model", "prompt", "duration", "quality", "credits"],
        dry_run={"const": True},
        provider={"enum": list(PROVIDER_NAMES)},
        model=_STRING,
        prompt=_STRING,
        duration=_INTEGER,
        quality=_STRING,
        credits=_NUMBER_OR_NULL,
        budget=_ref("Budget"),
        within_budget={"type": "boolean"},
    ),
    "Asset": _ASSET,
    "Job": _JOB,
    "Event": _object(
        ["seq", "type", "data", "created_at"],
        seq=_INTEGER,
        type=_STRING,
        data={"type": "object"},
        created_at=_TIME,
    ),
    "Delivery": _object(
        ["id", "source", "outcome", "body_size", "received_at"],
        id=_STRING,
        source=_STRING,
        outcome={"enum": list(DeliveryOutcome)},
        reason=_TEXT_OR_NULL,
        provider_status=_TEXT_OR_NULL,
        client_addr=_TEXT_OR_NULL,
        body_size=_INTEGER,
        received_at=_TIME,
    ),
    "JobDetails": {
        "allOf": [
            _ref("Job"),
            _object(
                ["assets", "events", "deliveries"],
                assets={
                    "type": "array",
                    "items": _ref("Asset"),
                    "description": "Every stored file, one per result of the task, in order "
                    "(`asset` is the first)",
                },
                result_data={
                    "type": ["object", "null"],
                    "description": "What the task returned that is no file (its result_data "
                    "without media URLs: an element id, a persona, songs' titles); null if none",
                },
                events={"type": "array", "items": _ref("Event")},
                deliveries={"type": "array", "items": _ref("Delivery")},
            ),
        ]
    },
    "JobPage": _object(
        ["jobs", "total", "next_cursor", "last_event_seq"],
        jobs={"type": "array", "items": _ref("Job")},
        total={
            "type": "integer",
            "description": "Every job the filters match, over all pages (50 of `total`)",
        },
        next_cursor={
            **_TEXT_OR_NULL,
            "description": "Pass as `cursor` for the next page; null on the last one",
        },
        last_event_seq={
            "type": "integer",
            "description": "Follow /v1/events from here to miss nothing after this page",
        },
    ),
    "Costs": _object(
        ["by", "groups", "total_credits", "unpriced_jobs", "budget"],
        by={"enum": ["model", "day"]},
        groups={
            "type": "array",
            "items": _object(
                ["jobs", "credits", "estimated_jobs", "unpriced_jobs"],
                model={**_STRING, "description": "With by=model"},
                day={**_STRING, "description": "With by=day (UTC, YYYY-MM-DD)"},
                jobs=_INTEGER,
                credits={
                    **_NUMBER_OR_NULL,
                    "description": "Credits of the priced jobs; null when none has a price",
                },
                estimated_jobs={**_INTEGER, "description": "Jobs whose cost is our estimate"},
                unpriced_jobs={**_INTEGER, "description": "Jobs with no price at all"},
            ),
        },
        total_credits={"type": "number"},
        unpriced_jobs=_INTEGER,
        budget=_ref("Budget"),
    ),
    "ReplayFilter": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "since": {"type": ["string", "null"], "description": "A duration such as 24h"},
            "job_id": _TEXT_OR_NULL,
            "dry_run": {"type": "boolean"},
        },
    },
    "ReplayResult": _object(
        ["delivery_id", "job_id", "verdict", "reason"],
        delivery_id=_STRING,
        job_id=_TEXT_OR_NULL,
        verdict={"enum": ["replayed", "already_done", "still_failing"]},
        reason=_TEXT_OR_NULL,
    ),
    "ReplayDryRun": _object(
        ["dry_run", "deliveries"],
        dry_run={"const": True},
        deliveries={"type": "array", "items": _STRING},
    ),
    "ReplaySummary": _object(
        ["replayed", "already_done", "still_failing"],
        replayed=_INTEGER,
        already_done=_INTEGER,
        still_failing={"type": "array", "items": _ref("ReplayResult")},
    ),
    "CallbackAnswer": _object(
        ["outcome", "job_id", "delivery_id"],
        outcome={"enum": [o.value for o in DeliveryOutcome if o is not DeliveryOutcome.REJECTED]},
        job_id=_TEXT_OR_NULL,
        delivery_id=_STRING,
    ),
    "CallbackRefusal": _object(
        ["error", "message"],
        error=_STRING,
        message=_STRING,
        delivery_id={
            **_TEXT_OR_NULL,
            "description": "The recorded delivery; null (or absent) when it was not recorded",
        },
    ),
}
