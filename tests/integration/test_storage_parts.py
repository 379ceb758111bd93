"""Parts sent as presigned UploadPart PUTs: the same answers, retries and errors as botocore's.

Against real SeaweedFS (credentials enforced) for what a store really answers, and against a
scripted S3 stand-in on loopback for the answers SeaweedFS cannot be made to give (503, 429,
SlowDown), whose every request is recorded.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.config import Settings
from receiver.devtools.seaweed import SeaweedFS, free_ports
from receiver.errors import StorageError
from receiver.storage import ObjectStore
from tests.conftest import make_env, s3_env
from tests.servers import run_server

pytestmark = pytest.mark.integration

MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path, seaweedfs: SeaweedFS) -> ObjectStore:
    store = ObjectStore(Settings.from_env(make_env(tmp_path, **s3_env(seaweedfs))))
    store.ensure_bucket()
    return store


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff between tries, recorded instead of slept."""
    slept: list[float] = []
    # (Patched where it lives: the tries sleep in time.sleep.)
    monkeypatch.setattr(time, "sleep", slept.append)
    return slept


def no_signature_in(text: str) -> None:
    assert "X-Amz-Signature" not in text
    assert "X-Amz-Credential" not in text


def test_parts_stored_through_presigned_urls_make_the_exact_object(store: ObjectStore) -> None:
    data = random.Random(3).randbytes(11 * MiB)
    upload_id = store.start_upload("p/whole.mp4", content_type="video/mp4")
    parts = [
        store.upload_part("p/whole.mp4", upload_id, 1, bytearray(data[: 6 * MiB])),
        store.upload_part("p/whole.mp4", upload_id, 2, data[6 * MiB :]),
    ]
    assert [(p.number, p.size) for p in parts] == [(1, 6 * MiB), (2, 5 * MiB)]
    assert store.uploaded_parts("p/whole.mp4", upload_id) == {p.number: p.etag for p in parts}
    store.complete_upload("p/whole.mp4", upload_id, parts)
    assert hashlib.sha256(b"".join(store.read("p/whole.mp4"))).digest() == (
        hashlib.sha256(data).digest()
    )


def test_a_part_for_an_aborted_upload_fails_at_once_as_a_gone_upload(
    store: ObjectStore, sleeps: list[float]
) -> None:
    upload_id = store.start_upload("p/gone.mp4", content_type="video/mp4")
    store.abort_upload("p/gone.mp4", upload_id)
    with pytest.raises(StorageError) as failed:
        store.upload_part("p/gone.mp4", upload_id, 1, bytearray(5 * MiB))
    assert "(NoSuchUpload) when calling the UploadPart operation" in failed.value.message
    assert sleeps == []  # not a transient failure: no retry
    no_signature_in(failed.value.message)


def test_a_part_signed_with_a_wrong_secret_is_refused_not_retried(
    tmp_path: Path, seaweedfs: SeaweedFS, store: ObjectStore, sleeps: list[float]
) -> None:
    upload_id = store.start_upload("p/denied.mp4", content_type="video/mp4")
    env = make_env(tmp_path, **s3_env(seaweedfs), RECEIVER_S3_BUCKET=store.bucket)
    env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret"
    intruder = ObjectStore(Settings.from_env(env))
    with pytest.raises(StorageError) as failed:
        intruder.upload_part("p/denied.mp4", upload_id, 1, bytearray(5 * MiB))
    assert "SignatureDoesNotMatch" in failed.value.message or "AccessDenied" in (
        failed.value.message
    )
    assert sleeps == []
    no_signature_in(failed.value.message)
    store.abort_upload("p/denied.mp4", upload_id)


def test_a_store_that_is_down_is_tried_five_times_then_reported(
    tmp_path: Path, sleeps: list[float]
) -> None:
    (port,) = free_ports(1)
    down = ObjectStore(
        Settings.from_env(
            make_env(
                tmp_path,
                RECEIVER_S3_ENDPOINT_URL=f"http://127.0.0.1:{port}",
                AWS_ACCESS_KEY_ID="key",
                AWS_SECRET_ACCESS_KEY="secret",
                AWS_REGION="us-east-1",
            )
        )
    )
    with pytest.raises(StorageError) as failed:
        down.upload_part("p/down.mp4", "upload-1", 1, bytearray(MiB))
    assert failed.value.message.startswith(
        "S3 store failed while uploading a part: EndpointConnectionError"
    )
    assert len(sleeps) == 4  # five tries, as botocore's standard mode
    assert all(0 <= delay <= 2**n for n, delay in enumerate(sleeps))
    no_signature_in(failed.value.message)
    assert "?" not in failed.value.message  # the URL's query (upload id, signature) dropped
    assert failed.value.__cause__ is None  # botocore's exception quotes the whole URL


@dataclass
class StandIn:
    """An S3 endpoint whose answers to part uploads the test scripts."""

    answers: list[tuple[int, bytes]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, list[str]], dict[str, str], int]] = field(default_factory=list)

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        self.seen.append(
            (request.url.path, parse_qs(request.url.query), dict(request.headers), len(body))
        )
        status, content = self.answers.pop(0) if self.answers else (200, b"")
        headers = {"etag": f'"{hashlib.md5(body).hexdigest()}"'} if status == 200 else {}
        return Response(content, status_code=status, headers=headers)


@pytest.fixture
def stand_in(tmp_path: Path) -> Iterator[tuple[StandIn, ObjectStore]]:
    fake = StandIn()
    app = Starlette(routes=[Route("/{path:path}", fake.endpoint, methods=["PUT"])])
    with run_server(app) as base:
        env = make_env(
            tmp_path,
            RECEIVER_S3_ENDPOINT_URL=base,
            RECEIVER_S3_BUCKET="stand-in",
            AWS_ACCESS_KEY_ID="AKIDSTANDIN",
            AWS_SECRET_ACCESS_KEY="stand-in-secret",
            AWS_REGION="eu-central-1",
        )
        yield fake, ObjectStore(Settings.from_env(env))


def s3_error(code: str) -> bytes:
    return f"<Error><Code>{code}</Code><Message>try later</Message></Error>".encode()


def test_transient_and_throttling_answers_are_retried_with_backoff(
    stand_in: tuple[StandIn, ObjectStore], sleeps: list[float]
) -> None:
    fake, store = stand_in
    fake.answers = [
        (503, s3_error("SlowDown")),
        (500, b""),
        (429, b""),
        (400, s3_error("SlowDown")),
    ]
    part = store.upload_part("v/a.mp4", "upload-1", 7, bytearray(b"x" * 1000))
    assert part.etag == f'"{hashlib.md5(b"x" * 1000).hexdigest()}"'
    assert (part.number, part.size) == (7, 1000)
    assert len(fake.seen) == 5
    assert len(sleeps) == 4


def test_the_part_url_is_path_style_in_the_region_without_checksums(
    stand_in: tuple[StandIn, ObjectStore],
) -> None:
    fake, store = stand_in
    store.upload_part("v/a b.mp4", "upload-1", 3, bytearray(b"y" * 1000))
    ((path, query, headers, length),) = fake.seen
    assert path == "/stand-in/v/a b.mp4"  # path-style addressing, the bucket first
    assert (query["uploadId"], query["partNumber"]) == (["upload-1"], ["3"])
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert "/eu-central-1/s3/aws4_request" in query["X-Amz-Credential"][0]
    assert int(query["X-Amz-Expires"][0]) <= 15 * 60
    # when_required: no checksum asked for or sent, which several stores reject.
    assert not [name for name in (*query, *headers) if "checksum" in name.lower()]
    assert length == int(headers["content-length"]) == 1000


def test_an_error_answer_is_reported_with_its_code_and_not_retried(
    stand_in: tuple[StandIn, ObjectStore], sleeps: list[float]
) -> None:
    fake, store = stand_in
    fake.answers = [(404, s3_error("NoSuchUpload"))]
    with pytest.raises(StorageError, match=r"\(NoSuchUpload\) when calling the UploadPart"):
        store.upload_part("v/a.mp4", "upload-1", 1, bytearray(10))
    assert (len(fake.seen), sleeps) == (1, [])


def test_a_store_failing_every_try_is_reported_after_five(
    stand_in: tuple[StandIn, ObjectStore], sleeps: list[float]
) -> None:
    fake, store = stand_in
    fake.answers = [(503, b"")] * 6
    with pytest.raises(StorageError, match=r"\(503\) when calling the UploadPart operation"):
        store.upload_part("v/a.mp4", "upload-1", 1, bytearray(10))
    assert (len(fake.seen), len(sleeps)) == (5, 4)
