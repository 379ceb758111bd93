"""Kling's rules and wire format, as the client and the simulator both read them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from receiver.errors import ValidationError
from receiver.providers import kling_protocol as protocol
from receiver.providers.base import JobRequest, TaskStatus


def test_defaults_to_kling_v3_and_keeps_evolinks_v3_names_working() -> None:
    assert protocol.validate_request(JobRequest(prompt=" a fox ")).model == "kling-v3"
    aliased = protocol.validate_request(JobRequest(prompt="a fox", model="kling-v3-text-to-video"))
    assert aliased.model == "kling-v3"
    assert aliased.prompt == "a fox"


@pytest.mark.parametrize(
    ("request_", "field", "words"),
    [
        (JobRequest(prompt="  "), "prompt", "empty"),
        (JobRequest(prompt="x" * 2501), "prompt", "2501"),
        (JobRequest(prompt="a", model="kling-v9"), "model", "known models"),
        (JobRequest(prompt="a", model="kling-v3-turbo-text-to-video"), "model", "use kling-v3"),
        (JobRequest(prompt="a", model="kling-v2-6", duration=7), "duration", "5 or 10"),
        (JobRequest(prompt="a", duration=16), "duration", "between 3 and 15"),
        (JobRequest(prompt="a", aspect_ratio="4:3"), "aspect_ratio", "16:9"),
        (JobRequest(prompt="a", quality="4k"), "quality", "720p"),
        (JobRequest(prompt="a", model="kling-v2-1-master", sound="on"), "sound", "no sound"),
        (JobRequest(prompt="a", model="kling-v2-1"), "image_url", "first-frame image"),
        (JobRequest(prompt="a", image_url="ftp://x/a.png"), "image_url", "http(s)"),
        (JobRequest(prompt="a", image_url="https://x/a.gif"), "image_url", "png"),
    ],
)
def test_refuses_what_kling_refuses(request_: JobRequest, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        protocol.validate_request(request_)
    assert caught.value.field == field
    assert words in caught.value.message


def test_text_to_video_body() -> None:
    request = protocol.validate_request(
        JobRequest(prompt="a fox", duration=10, quality="1080p", negative_prompt="blur", sound="on")
    )
    body = protocol.request_body(request, callback_url="https://r/cb", external_task_id="job_1")
    assert protocol.kind_of(request) == "text2video"
    assert body == {
        "model_name": "kling-v3",
        "prompt": "a fox",
        "duration": "10",
        "mode": "pro",
        "aspect_ratio": "16:9",
        "negative_prompt": "blur",
        "sound": "on",
        "callback_url": "https://r/cb",
        "external_task_id": "job_1",
    }


def test_image_to_video_body_takes_the_image_and_no_aspect_ratio() -> None:
    request = protocol.validate_request(
        JobRequest(prompt="it moves", model="kling-v2-1", image_url="https://img.example/a.png")
    )
    body = protocol.request_body(request, callback_url="https://r/cb", external_task_id="job_2")
    assert protocol.kind_of(request) == "image2video"
    assert body["image"] == "https://img.example/a.png"
    assert body["mode"] == "std"
    assert "aspect_ratio" not in body


def _task(status: str, **extra: object) -> dict[str, object]:
    return {
        "task_id": "CjhGxGbKDmsAAAAAAxxxx",
        "task_status": status,
        "task_status_msg": "",
        "task_info": {"external_task_id": "job_1"},
        "created_at": 1722769557708,
        "updated_at": 1722769557708,
        **extra,
    }


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("submitted", TaskStatus.PENDING),
        ("processing", TaskStatus.PROCESSING),
        ("succeed", TaskStatus.COMPLETED),
        ("failed", TaskStatus.FAILED),
        ("exploded", TaskStatus.UNKNOWN),
    ],
)
def test_statuses(raw: str, status: TaskStatus) -> None:
    snapshot = protocol.parse_task(_task(raw))
    assert snapshot.status == status
    assert snapshot.raw_status == raw


def test_a_finished_task_carries_its_video_and_creation_time() -> None:
    videos = [{"id": "v1", "url": "https://cdn.kling.example/v1.mp4", "duration": "5"}]
    snapshot = protocol.parse_task(_task("succeed", task_result={"videos": videos}))
    assert snapshot.video_urls == ("https://cdn.kling.example/v1.mp4",)
    assert snapshot.progress == 100
    assert snapshot.created_at == datetime(2024, 8, 4, 11, 5, 57, 708000, tzinfo=UTC)


def test_a_failed_task_carries_its_reason() -> None:
    snapshot = protocol.parse_task(_task("failed", task_status_msg="content risk"))
    assert snapshot.error_message == "content risk"
    assert snapshot.video_urls == ()


def test_the_envelope_is_unwrapped_and_a_bare_task_accepted() -> None:
    bare = _task("processing")
    wrapped = {"code": 0, "message": "SUCCEED", "request_id": "r1", "data": bare}
    assert protocol.parse_task_json(json.dumps(wrapped).encode()).task_id == bare["task_id"]
    assert protocol.parse_task_json(json.dumps(bare).encode()).task_id == bare["task_id"]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"task_status": "succeed"}',
        b'{"task_id": "", "task_status": "succeed"}',
        b'{"task_id": "t", "task_status": 3}',
        b'{"task_id": "t\\u0000", "task_status": "succeed"}',
        b"[" * 100000,
    ],
)
def test_malformed_bodies_are_value_errors(body: bytes) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        protocol.parse_task_json(body)


def test_hostile_fields_are_dropped_not_stored() -> None:
    snapshot = protocol.parse_task(
        _task(
            "succeed",
            created_at=1e300,
            task_result={"videos": [{"url": "file:///etc/passwd"}, {"url": 7}, "junk"]},
        )
    )
    assert snapshot.created_at is None
    assert snapshot.video_urls == ()
