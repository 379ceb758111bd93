from __future__ import annotations

import dataclasses
import json

import pytest

from receiver.errors import ValidationError
from receiver.providers import evolink_protocol as protocol
from receiver.providers.base import JobRequest, TaskStatus

SEED_RESPONSE = {
    "created": 1757169743,
    "id": "task-unified-1757169743-v3turbot2v",
    "model": "kling-v3-turbo-text-to-video",
    "object": "video.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 180, "video_duration": 5},
    "type": "video",
    "usage": {"billing_rule": "per_second", "credits_reserved": 36.0, "user_group": "default"},
}


def test_text_request_gets_the_turbo_text_model() -> None:
    request = protocol.validate_request(JobRequest(prompt="  a fox  "))
    assert request.model == "kling-v3-turbo-text-to-video"
    assert request.prompt == "a fox"


def test_image_request_gets_the_turbo_image_model() -> None:
    request = protocol.validate_request(
        JobRequest(prompt="move", image_url="https://img.example.com/a.png")
    )
    assert request.model == "kling-v3-turbo-image-to-video"
    body = protocol.request_body(request, callback_url="https://r/cb")
    assert body["image_start"] == "https://img.example.com/a.png"
    assert "aspect_ratio" not in body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x" * 2501}, "prompt"),
        ({"duration": 2}, "duration"),
        ({"duration": 16}, "duration"),
        ({"aspect_ratio": "4:3"}, "aspect_ratio"),
        ({"quality": "4k"}, "quality"),
        ({"model": "sora-9"}, "model"),
        ({"sound": "loud"}, "sound"),
        ({"model": "kling-v3-image-to-video"}, "image_url"),
        (
            {"image_url": "https://example.com/a.png", "model": "kling-v3-text-to-video"},
            "image_url",
        ),
        ({"image_url": "file:///etc/passwd"}, "image_url"),
        ({"image_url": "https://example.com/a.gif"}, "image_url"),
    ],
)
def test_invalid_requests_name_the_field(changes: dict[str, object], field: str) -> None:
    request = dataclasses.replace(JobRequest(prompt="a fox"), **changes)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as excinfo:
        protocol.validate_request(request)
    assert excinfo.value.field == field


def test_boundaries_are_accepted() -> None:
    for duration in (3, 15):
        protocol.validate_request(JobRequest(prompt="p" * 2500, duration=duration, quality="1080p"))


def test_request_body_matches_the_documented_example() -> None:
    request = protocol.validate_request(
        JobRequest(prompt="A golden retriever", duration=5, aspect_ratio="16:9", quality="720p")
    )
    body = protocol.request_body(request, callback_url="https://r.example.com/callbacks/evolink/t")
    assert body == {
        "model": "kling-v3-turbo-text-to-video",
        "prompt": "A golden retriever",
        "duration": 5,
        "aspect_ratio": "16:9",
        "quality": "720p",
        "callback_url": "https://r.example.com/callbacks/evolink/t",
    }


def test_parse_the_seed_response() -> None:
    snapshot = protocol.parse_task(SEED_RESPONSE)
    assert snapshot.task_id == "task-unified-1757169743-v3turbot2v"
    assert snapshot.status == TaskStatus.PENDING
    assert snapshot.estimated_seconds == 180
    assert snapshot.credits_reserved == 36.0
    assert snapshot.created_at is not None
    assert snapshot.created_at.year == 2025
    assert snapshot.video_urls == ()


def test_parse_completed_with_results_and_result_data() -> None:
    body = {
        **SEED_RESPONSE,
        "status": "completed",
        "progress": 100,
        "results": ["https://cdn.example.com/v.mp4"],
        "result_data": [{"video_url": "https://cdn.example.com/v.mp4"}, {"video_url": 3}],
    }
    snapshot = protocol.parse_task_json(json.dumps(body).encode())
    assert snapshot.status == TaskStatus.COMPLETED
    assert snapshot.video_urls == ("https://cdn.example.com/v.mp4",)


def test_parse_failed_keeps_the_reason() -> None:
    snapshot = protocol.parse_task(
        {"id": "t", "status": "failed", "error": {"code": "content_policy", "message": "no"}}
    )
    assert (snapshot.status, snapshot.error_code, snapshot.error_message) == (
        TaskStatus.FAILED,
        "content_policy",
        "no",
    )


def test_unknown_status_is_kept_not_guessed() -> None:
    snapshot = protocol.parse_task({"id": "t", "status": "Exploded"})
    assert snapshot.status == TaskStatus.UNKNOWN
    assert snapshot.raw_status == "Exploded"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"status": "completed"}',
        b'{"id": "", "status": "x"}',
        b'{"id": "t"}',
        b'{"id": 5, "status": "completed"}',
        b"\xff\xfe",
    ],
)
def test_malformed_bodies_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by what is wrong
        protocol.parse_task_json(body)


def test_odd_field_types_do_not_crash() -> None:
    snapshot = protocol.parse_task(
        {
            "id": "t",
            "status": "completed",
            "progress": "lots",
            "results": "nope",
            "error": ["x"],
            "task_info": 7,
            "usage": None,
            "created": -5,
        }
    )
    assert snapshot.progress is None
    assert snapshot.video_urls == ()
    assert snapshot.created_at is None


@pytest.mark.parametrize(
    "body",
    [
        b'{"id": "t", "status": "completed", "progress": Infinity}',
        b'{"id": "t", "status": "completed", "progress": 1e20, '
        b'"usage": {"credits_reserved": 1e300}}',
        b'{"id": "t", "status": "completed", "progress": 3000000000}',
        b'{"id": "t", "status": "completed", "error": {"code": "a\\u0000b"}, "model": "\\ud800"}',
    ],
)
def test_hostile_numbers_and_text_are_dropped_not_stored(body: bytes) -> None:
    snapshot = protocol.parse_task_json(body)
    assert snapshot.progress is None
    assert snapshot.error_code is None
    assert snapshot.model is None
    assert snapshot.credits_reserved is None


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"id": "\\ud800", "status": "completed"}',
        b'{"id": "t\\u0000", "status": "completed"}',
        b'{"id": "t", "status": "done\\u0000"}',
    ],
)
def test_unstorable_ids_and_deep_nesting_are_malformed(body: bytes) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by what is wrong
        protocol.parse_task_json(body)
