"""The archiver on a real SeaweedFS (credentials enforced) and a real HTTP video source."""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from structlog.testing import capture_logs

from receiver import clock, metrics
from receiver.archive.attempt import ArchiveAttempt
from receiver.archive.deadlines import warn_near_deadlines
from receiver.archive.probe import VideoFacts, probe
from receiver.archive.upload import Checkpoint, UploadObserver, upload_stream
from receiver.archive.worker import ArchiveWorker
from receiver.config import Settings
from receiver.devtools.seaweed import SeaweedFS
from receiver.devtools.simulator.ranges import parse_range
from receiver.errors import FetchError, StorageError
from receiver.lifecycle import JobStatus
from receiver.storage import ObjectStore, UploadedPart, asset_key
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.assets import Assets
from receiver.store.database import Database, open_database
from receiver.store.jobs import Jobs
from receiver.store.migrate import migrate
from receiver.store.records import ArchiveTask, Asset, Job
from tests.conftest import make_env, run_sql, s3_env
from tests.servers import run_server

pytestmark = pytest.mark.integration

SAMPLE = (
    Path(__file__).parents[2] / "receiver" / "devtools" / "simulator" / "sample.mp4"
).read_bytes()
MiB = 1024 * 1024


def video(size: int, seed: int = 1) -> bytes:
    """A real MP4 padded with a 'free' box to ``size`` bytes."""
    pad = size - len(SAMPLE)
    return SAMPLE + pad.to_bytes(4, "big") + b"free" + random.Random(seed).randbytes(pad - 8)


@pytest.fixture
def s3_settings(tmp_path: Path, seaweedfs: SeaweedFS, database_url: str) -> Settings:
    return Settings.from_env(
        make_env(
            tmp_path,
            RECEIVER_PART_SIZE="5MiB",
            RECEIVER_DATABASE_URL=database_url,
            **s3_env(seaweedfs),
        )
    )


@pytest.fixture
def store(s3_settings: Settings) -> ObjectStore:
    store = ObjectStore(s3_settings)
    store.ensure_bucket()
    return store


def chunks(data: bytes, size: int = 300_000) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def digest_of(store: ObjectStore, key: str) -> str:
    return hashlib.sha256(b"".join(store.read(key))).hexdigest()


class PartsSeen(UploadObserver):
    """Hears of each stored part, as the journal would."""

    def __init__(self) -> None:
        self.parts: list[UploadedPart] = []

    def part_stored(self, part: UploadedPart, checkpoint: Checkpoint) -> None:
        assert checkpoint.parts[-1] == part  # the checkpoint stands right after it
        self.parts.append(part)


def test_ensure_bucket_is_idempotent_and_wrong_credentials_are_explained(
    tmp_path: Path, seaweedfs: SeaweedFS, store: ObjectStore
) -> None:
    store.ensure_bucket()
    env = make_env(tmp_path, **s3_env(seaweedfs))
    env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret"
    with pytest.raises(StorageError):
        ObjectStore(Settings.from_env(env)).ensure_bucket()


def test_multipart_stream_stores_exact_bytes(store: ObjectStore) -> None:
    data = video(12 * MiB)
    seen = PartsSeen()
    stored = upload_stream(store, "t/a.mp4", chunks(data), part_size=5 * MiB, observer=seen)
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert digest_of(store, "t/a.mp4") == stored.sha256
    assert [(p.number, p.size) for p in seen.parts] == [(1, 5 * MiB), (2, 5 * MiB), (3, 2 * MiB)]
    assert store.open_uploads("t/") == []


def test_parts_are_sent_while_the_next_is_read_with_a_bounded_number_in_flight(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = video(26 * MiB, seed=5)
    lock = threading.Lock()
    sending = 0
    most_sending = 0
    reads_while_sending = 0
    original = store.upload_part

    def slow_upload_part(key: str, upload_id: str, number: int, body: bytes) -> UploadedPart:
        nonlocal sending, most_sending
        with lock:
            sending += 1
            most_sending = max(most_sending, sending)
        try:
            time.sleep(0.2)  # a slow store: the reader must not wait for it
            return original(key, upload_id, number, body)
        finally:
            with lock:
                sending -= 1

    def counted_chunks() -> Iterator[bytes]:
        nonlocal reads_while_sending
        for chunk in chunks(data, size=MiB):
            with lock:
                reads_while_sending += sending > 0
            yield chunk

    monkeypatch.setattr(store, "upload_part", slow_upload_part)
    seen = PartsSeen()
    stored = upload_stream(
        store, "t/pipelined.mp4", counted_chunks(), part_size=5 * MiB, in_flight=2, observer=seen
    )
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert digest_of(store, "t/pipelined.mp4") == stored.sha256
    assert most_sending == 2  # overlapped, and never more than allowed
    assert reads_while_sending >= 10  # the source was read on while parts went up
    assert [p.number for p in seen.parts] == [1, 2, 3, 4, 5, 6]  # reported in order, each once


@pytest.mark.parametrize("in_flight", [1, 2])
def test_part_buffers_are_reused_but_never_while_their_part_is_on_its_way(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch, in_flight: int
) -> None:
    data = video(31 * MiB, seed=11)
    original = store.upload_part
    buffers: set[int] = set()
    sent: dict[int, bytes] = {}

    def slow_upload_part(
        key: str, upload_id: str, number: int, body: bytes | bytearray
    ) -> UploadedPart:
        buffers.add(id(body))
        before = bytes(body)
        time.sleep(0.1)  # the reader fills the next parts meanwhile
        assert bytes(body) == before  # nobody wrote into a part on its way
        # By number: with several parts in flight they may finish in any order.
        sent[number] = before
        return original(key, upload_id, number, body)

    monkeypatch.setattr(store, "upload_part", slow_upload_part)
    stored = upload_stream(
        store, "t/reused.mp4", chunks(data, size=700_000), part_size=5 * MiB, in_flight=in_flight
    )
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert digest_of(store, "t/reused.mp4") == stored.sha256
    assert b"".join(sent[number] for number in sorted(sent)) == data
    # Seven parts from in_flight + 1 buffers, the last part's cut short in place.
    assert len(sent) == 7
    assert len(buffers) <= in_flight + 1


@pytest.mark.parametrize(("size", "in_flight"), [(5 * MiB, 1), (10 * MiB, 2), (10 * MiB, 1)])
def test_a_file_of_whole_parts_gets_no_empty_last_part(
    store: ObjectStore, size: int, in_flight: int
) -> None:
    data = video(size, seed=size // MiB + in_flight)
    seen = PartsSeen()
    stored = upload_stream(
        store,
        f"t/whole-{size}-{in_flight}.mp4",
        chunks(data),
        part_size=5 * MiB,
        in_flight=in_flight,
        observer=seen,
    )
    assert [p.size for p in seen.parts] == [5 * MiB] * (size // (5 * MiB))
    assert digest_of(store, stored.key) == hashlib.sha256(data).hexdigest()


def test_existing_identical_object_counts_as_success(store: ObjectStore) -> None:
    data = video(1 * MiB, seed=2)
    first = upload_stream(store, "t/same.mp4", chunks(data), part_size=5 * MiB)
    again = upload_stream(store, "t/same.mp4", chunks(data), part_size=5 * MiB)
    assert first.created
    assert not again.created
    assert again.sha256 == first.sha256
    assert store.open_uploads("t/same") == []


def test_a_store_without_conditional_writes_is_guarded_by_head(
    store: ObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    complete = store._client.complete_multipart_upload
    conditional_calls: list[str] = []

    def no_conditions(**kwargs: Any) -> Any:
        if "IfNoneMatch" in kwargs:
            conditional_calls.append(kwargs["Key"])
            raise ClientError(
                {"Error": {"Code": "NotImplemented", "Message": "If-None-Match"}},
                "CompleteMultipartUpload",
            )
        return complete(**kwargs)

    monkeypatch.setattr(store._client, "complete_multipart_upload", no_conditions)
    first = upload_stream(store, "t/plain.mp4", chunks(video(MiB, seed=7)), part_size=5 * MiB)
    assert digest_of(store, "t/plain.mp4") == first.sha256
    with pytest.raises(StorageError, match="different object"):
        upload_stream(store, "t/plain.mp4", chunks(video(MiB, seed=8)), part_size=5 * MiB)
    assert digest_of(store, "t/plain.mp4") == first.sha256  # HEAD kept it from being replaced
    assert conditional_calls == ["t/plain.mp4"]  # asked once, then remembered
    assert store.open_uploads("t/") == []


def test_existing_different_object_is_never_overwritten(store: ObjectStore) -> None:
    upload_stream(store, "t/diff.mp4", chunks(video(MiB, seed=3)), part_size=5 * MiB)
    with pytest.raises(StorageError, match="different object"):
        upload_stream(store, "t/diff.mp4", chunks(video(MiB, seed=4)), part_size=5 * MiB)
    assert digest_of(store, "t/diff.mp4") == hashlib.sha256(video(MiB, seed=3)).hexdigest()
    assert store.open_uploads("t/diff") == []


@pytest.mark.parametrize(
    ("data", "message"), [(b"<html>not a video</html>" * 10, "not an MP4"), (b"", "empty")]
)
def test_bad_bodies_are_refused_and_leave_nothing(
    store: ObjectStore, data: bytes, message: str
) -> None:
    key = f"t/bad-{message.replace(' ', '-')}.mp4"
    with pytest.raises(FetchError, match=message):
        upload_stream(store, key, chunks(data), part_size=5 * MiB)
    assert store.head(key) is None
    assert store.open_uploads(key) == []


# ── the worker, end to end on one task ──


class Source:
    """A video source whose answers the test scripts."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.statuses: list[int] = []
        self.hits = 0
        self.trickle = False
        #: Honour Range when If-Range names the current ETag (else serve it all, per RFC 9110).
        self.ranges = False
        self.asked: list[tuple[str | None, str | None]] = []  # (Range, If-Range) per request
        self.served = 0
        #: Where it serves the video (set by the fixture that runs it).
        self.url = ""

    async def endpoint(self, request: Request) -> Response:
        self.hits += 1
        self.asked.append((request.headers.get("range"), request.headers.get("if-range")))
        status = self.statuses.pop(0) if self.statuses else 200
        wanted = parse_range(request.headers.get("range", ""), len(self.data))
        if (
            status == 200
            and self.ranges
            and wanted
            and request.headers.get("if-range") == self.etag
        ):
            self.served += wanted.length
            return Response(
                self.data[wanted.start : wanted.end + 1],
                status_code=206,
                media_type="video/mp4",
                headers={"etag": self.etag, "content-range": wanted.content_range(len(self.data))},
            )
        if status == 0:
            # Announce the whole video, send 6 of its 7 MiB: the connection drops mid-body,
            # after one whole part could be stored.
            cut = self.data[: 6 * MiB]
            return StreamingResponse(
                self._chunks(cut),
                media_type="video/mp4",
                headers={"content-length": str(len(self.data)), "etag": self.etag},
            )
        if status != 200:
            return Response(b"nope", status_code=status)
        self.served += len(self.data)
        if self.trickle:
            return StreamingResponse(
                self._trickle(),
                media_type="video/mp4",
                headers={"content-length": str(len(self.data)), "etag": self.etag},
            )
        return Response(self.data, media_type="video/mp4", headers={"etag": self.etag})

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.data).hexdigest()[:16]}"'

    async def _trickle(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks(self.data):
            yield chunk
            await asyncio.sleep(0.05)

    async def _chunks(self, data: bytes) -> AsyncIterator[bytes]:
        for start in range(0, len(data), 256 * 1024):
            yield data[start : start + 256 * 1024]


@pytest.fixture
def source() -> Iterator[Source]:
    src = Source(video(7 * MiB, seed=9))
    app = Starlette(routes=[Route("/v.mp4", src.endpoint)])
    with run_server(app) as base:
        src.url = f"{base}/v.mp4"
        yield src


@pytest.fixture
def worker_db(s3_settings: Settings) -> Iterator[Database]:
    db = open_database(s3_settings.database_url)
    migrate(db)
    yield db
    db.close()


def completed_job(db: Database, url: str, *, deadline_in: float = 3600) -> str:
    """A completed job whose archive is queued, its link alive for ``deadline_in`` seconds."""
    job_id = clock.new_id("job")
    now = clock.now()
    with db.transaction() as conn:
        Jobs(conn).insert(
            job_id,
            provider="evolink",
            model="m",
            prompt="p",
            params={},
            status=JobStatus.COMPLETED,
            now=now,
        )
        ArchiveTasks(conn).enqueue(
            job_id,
            source_url=url,
            confirm_first=False,
            deadline_at=now + timedelta(seconds=deadline_in),
            now=clock.to_db(now),
        )
    return job_id


@pytest.fixture
def job_id(worker_db: Database, source: Source) -> str:
    """A completed job whose video is the test's source."""
    return completed_job(worker_db, source.url)


@pytest.fixture
def worker(
    worker_db: Database, store: ObjectStore, s3_settings: Settings
) -> Iterator[ArchiveWorker]:
    worker = ArchiveWorker(worker_db, store, s3_settings)
    yield worker
    worker.stop()


def job_of(db: Database, job_id: str) -> Job:
    with db.reading() as conn:
        job = Jobs(conn).get(job_id)
    assert job is not None
    return job


def task_of(db: Database, job_id: str) -> ArchiveTask:
    with db.reading() as conn:
        task = ArchiveTasks(conn).get(job_id)
    assert task is not None
    return task


def asset_of(db: Database, job_id: str) -> Asset:
    with db.reading() as conn:
        asset = Assets(conn).get(job_id)
    assert asset is not None
    return asset


def deadline_warned_at(db: Database, job_id: str) -> object:
    (task,) = run_sql(
        db, "SELECT deadline_warned_at FROM archive_tasks WHERE job_id = :j", j=job_id
    )
    return task["deadline_warned_at"]


def make_due(db: Database) -> None:
    """Every queued archive is due now (its backoff skipped)."""
    run_sql(db, "UPDATE archive_tasks SET not_before = :now", now=clock.to_db(clock.now()))


def key_of(db: Database, settings: Settings, job_id: str) -> str:
    """The object key of the job's video."""
    return asset_key(settings.s3_prefix, job_id, job_of(db, job_id).created_at)


def test_worker_archives_a_completed_job(
    store: ObjectStore, worker_db: Database, source: Source, worker: ArchiveWorker, job_id: str
) -> None:
    assert worker.run_once()
    assert not worker.run_once()  # nothing left
    asset = asset_of(worker_db, job_id)
    job = job_of(worker_db, job_id)
    assert job.status == "stored"
    assert asset.sha256 == hashlib.sha256(source.data).hexdigest()
    assert asset.size_bytes == len(source.data)
    assert str(asset.object_key).endswith(f"/{job_id}.mp4")
    assert digest_of(store, str(asset.object_key)) == asset.sha256
    # The facts FFmpeg reads from the stored object: the bundled 2 s 320x180 H.264 sample.
    assert (asset.codec, asset.width, asset.height) == ("h264", 320, 180)
    assert asset.duration_seconds == pytest.approx(2.0, abs=0.05)
    assert source.hits == 1


def test_video_facts_of_an_unreadable_file_are_left_empty(store: ObjectStore) -> None:
    # An 'ftyp' box and then noise: stored all the same, since the facts describe, not judge.
    noise = b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00" + random.Random(3).randbytes(6 * MiB)
    stored = upload_stream(store, "t/noise.mp4", chunks(noise), part_size=5 * MiB)
    with capture_logs() as logs:
        assert probe(store, stored.key, stored.size) == VideoFacts()
    assert [e["event"] for e in logs] == ["archive.probe_failed"]


def test_worker_retries_a_flaky_source_with_backoff(
    worker_db: Database, source: Source, worker: ArchiveWorker, job_id: str
) -> None:
    source.statuses = [500]
    assert worker.run_once()
    task = task_of(worker_db, job_id)
    assert task.state == "queued"
    assert "500" in str(task.last_error)
    assert task.not_before > clock.now()
    assert not worker.run_once()  # backing off: not ready yet
    make_due(worker_db)
    assert worker.run_once()
    assert job_of(worker_db, job_id).status == "stored"


def test_a_truncated_download_is_resumed_never_stored_short(
    store: ObjectStore, worker_db: Database, source: Source, worker: ArchiveWorker, job_id: str
) -> None:
    source.statuses = [0]  # the first download stops after 6 of 7 MiB
    assert worker.run_once()
    task = task_of(worker_db, job_id)
    assert task.state == "queued"
    assert "download failed" in str(task.last_error)
    assert job_of(worker_db, job_id).status == "completed"
    # The upload stays open for the next attempt (nothing of it is visible).
    assert task.upload_id is not None
    make_due(worker_db)
    with capture_logs() as logs:
        assert worker.run_once()
    # Part 1 was not sent again: only its bytes were re-read and hashed.
    assert [e["offset"] for e in logs if e["event"] == "archive.resuming"] == [5 * MiB]
    assert not [e for e in logs if e["event"] == "archive.source_changed"]
    assert job_of(worker_db, job_id).status == "stored"
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert store.open_uploads() == []


def truncated_once(worker_db: Database, store: ObjectStore, s3_settings: Settings, url: str) -> str:
    """A job whose first download stopped after 6 of 7 MiB, part 1 (5 MiB) stored."""
    job_id = completed_job(worker_db, url)
    worker = ArchiveWorker(worker_db, store, s3_settings)
    assert worker.run_once()
    assert task_of(worker_db, job_id).state == "queued"
    make_due(worker_db)
    worker.stop()
    return job_id


def test_a_retry_fetches_only_the_rest_with_a_ranged_conditional_request(
    store: ObjectStore, worker_db: Database, source: Source, worker: ArchiveWorker, job_id: str
) -> None:
    source.ranges = True
    source.statuses = [0]
    assert worker.run_once()  # stops after 6 MiB
    make_due(worker_db)
    served_before = source.served
    assert worker.run_once()  # the same process still holds the hash of part 1
    assert source.asked[-1] == (f"bytes={5 * MiB}-", source.etag)
    assert source.served - served_before == 2 * MiB  # the prefix is neither stored nor read again
    assert job_of(worker_db, job_id).status == "stored"
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert store.open_uploads() == []


def test_a_new_worker_rereads_the_prefix_under_if_range_and_stores_the_whole_hash(
    s3_settings: Settings, store: ObjectStore, worker_db: Database, source: Source
) -> None:
    source.ranges = True
    source.statuses = [0]
    job_id = truncated_once(worker_db, store, s3_settings, source.url)
    restarted = ArchiveWorker(worker_db, store, s3_settings)  # no hash state survives a restart
    with capture_logs() as logs:
        assert restarted.run_once()
    assert source.asked[-1] == ("bytes=0-", source.etag)
    assert [e["offset"] for e in logs if e["event"] == "archive.resuming"] == [5 * MiB]
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert store.open_uploads() == []
    restarted.stop()


def test_a_source_that_changed_since_is_archived_afresh_from_one_download(
    s3_settings: Settings,
    store: ObjectStore,
    worker_db: Database,
    source: Source,
    worker: ArchiveWorker,
) -> None:
    source.ranges = True
    source.statuses = [0]
    job_id = truncated_once(worker_db, store, s3_settings, source.url)
    source.data = video(7 * MiB, seed=10)  # a new ETag: If-Range no longer holds
    hits = source.hits
    with capture_logs() as logs:
        assert worker.run_once()
    assert source.hits == hits + 1  # the whole new file came in the answer to the ranged request
    assert [e["event"] for e in logs if e["event"] == "archive.source_changed"]
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert store.open_uploads() == []


@pytest.mark.parametrize(
    "outcome",
    [
        (404, "failed", "completed"),  # gone: the job keeps its status, flagged with the reason
        (403, "expired", "expired"),  # an expired presigned link
        (410, "expired", "expired"),
    ],
)
def test_worker_gives_up_on_a_dead_link_at_once_and_says_why(
    worker_db: Database,
    source: Source,
    outcome: tuple[int, str, str],
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    status, task_state, job_status = outcome
    source.statuses = [status]
    assert worker.run_once()
    task = task_of(worker_db, job_id)
    assert (task.state, task.attempts) == (task_state, 1)
    job = job_of(worker_db, job_id)
    assert job.status == job_status
    assert str(status) in str(job.attention)


def test_a_different_object_under_the_key_fails_the_job_at_once(
    s3_settings: Settings,
    store: ObjectStore,
    worker_db: Database,
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    key = key_of(worker_db, s3_settings, job_id)
    upload_stream(store, key, chunks(video(MiB, seed=99)), part_size=5 * MiB)
    assert worker.run_once()
    task = task_of(worker_db, job_id)
    assert (task.state, task.attempts) == ("failed", 1)  # reported, not retried over
    assert "different object" in str(job_of(worker_db, job_id).attention)
    assert digest_of(store, key) == hashlib.sha256(video(MiB, seed=99)).hexdigest()


def test_a_store_outage_during_a_part_is_waited_out_holding_the_bytes(
    store: ObjectStore,
    worker_db: Database,
    source: Source,
    monkeypatch: pytest.MonkeyPatch,
    *,
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    upload_part = store.upload_part
    outage = [StorageError("S3 store failed while uploading a part: 503")] * 2

    def down_for_a_while(*args: Any) -> UploadedPart:
        if outage:
            raise outage.pop()
        return upload_part(*args)

    monkeypatch.setattr(store, "upload_part", down_for_a_while)
    with capture_logs() as logs:
        assert worker.run_once()  # one attempt: the part waited for the store to come back
    assert [e["event"] for e in logs].count("archive.store_unavailable") == 2
    assert job_of(worker_db, job_id).status == "stored"
    assert task_of(worker_db, job_id).attempts == 1
    assert source.hits == 1


def test_a_store_still_down_when_the_retry_comes_keeps_the_journal(
    store: ObjectStore,
    worker_db: Database,
    source: Source,
    monkeypatch: pytest.MonkeyPatch,
    *,
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    complete, list_parts = store.complete_upload, store.uploaded_parts
    down = StorageError("S3 store failed while completing an upload: connection refused")
    completions, listings = [down], [down]

    def flaky_complete(*args: Any) -> str:
        if completions:
            raise completions.pop()
        return complete(*args)

    def flaky_list(*args: Any) -> dict[int, str] | None:
        if listings:
            raise listings.pop()
        return list_parts(*args)

    monkeypatch.setattr(store, "complete_upload", flaky_complete)
    monkeypatch.setattr(store, "uploaded_parts", flaky_list)
    for _ in range(3):  # completing fails; the retry finds the store still down; then it is back
        make_due(worker_db)
        assert worker.run_once()
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert source.hits == 1  # the parts and their journal outlived the outage: no second download
    assert store.open_uploads() == []


def test_an_upload_aborted_under_a_part_fails_at_once_and_the_retry_starts_afresh(
    store: ObjectStore,
    worker_db: Database,
    source: Source,
    monkeypatch: pytest.MonkeyPatch,
    *,
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    # Another worker's sweep or a lifecycle rule may abort the upload: that is no outage to
    # wait out (RECEIVER_STORE_PATIENCE is minutes), the attempt must end now.
    upload_part = store.upload_part
    aborted: list[str] = []

    def abort_before_the_second_part(key: str, upload_id: str, number: int, data: Any) -> Any:
        if number == 2 and not aborted:
            store.abort_upload(key, upload_id)
            aborted.append(upload_id)
        return upload_part(key, upload_id, number, data)

    monkeypatch.setattr(store, "upload_part", abort_before_the_second_part)
    with capture_logs() as logs:
        assert worker.run_once()
    events = [e["event"] for e in logs]
    assert "archive.store_unavailable" not in events
    task = task_of(worker_db, job_id)
    assert task.state == "queued"
    assert "NoSuchUpload" in str(task.last_error)
    make_due(worker_db)
    assert worker.run_once()
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert store.open_uploads() == []


def test_a_failed_completion_is_retried_without_downloading_again(
    store: ObjectStore,
    worker_db: Database,
    source: Source,
    monkeypatch: pytest.MonkeyPatch,
    *,
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    complete = store.complete_upload
    failures = [StorageError("S3 store failed while completing an upload: 503")]

    def flaky_complete(*args: Any) -> str:
        if failures:
            raise failures.pop()
        return complete(*args)

    monkeypatch.setattr(store, "complete_upload", flaky_complete)
    assert worker.run_once()
    assert task_of(worker_db, job_id).state == "queued"
    make_due(worker_db)
    assert worker.run_once()
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert source.hits == 1  # every part was stored: the retry only completed the upload


def test_worker_expires_a_job_past_its_link_deadline(
    worker_db: Database, source: Source, worker: ArchiveWorker
) -> None:
    job_id = completed_job(worker_db, source.url, deadline_in=-1)
    assert worker.run_once()
    job = job_of(worker_db, job_id)
    assert job.status == "expired"
    assert "expired" in str(job.attention)
    assert source.hits == 0


def test_archives_near_their_deadline_are_warned_about_once_each(
    worker_db: Database, source: Source
) -> None:
    soon = completed_job(worker_db, source.url, deadline_in=1800)
    later = completed_job(worker_db, source.url, deadline_in=5 * 3600)
    finished = completed_job(worker_db, source.url, deadline_in=600)
    run_sql(worker_db, "UPDATE archive_tasks SET state = 'done' WHERE job_id = :j", j=finished)
    before = metrics.DEADLINE_WARNINGS._value.get()
    with capture_logs() as logs:
        assert warn_near_deadlines(worker_db, 2 * 3600) == 1
        assert warn_near_deadlines(worker_db, 2 * 3600) == 0  # once per job
    (warning,) = [e for e in logs if e["event"] == "archive.deadline_near"]
    assert warning["job_id"] == soon
    assert 1700 < warning["margin_seconds"] <= 1800
    assert metrics.DEADLINE_WARNINGS._value.get() == before + 1
    assert deadline_warned_at(worker_db, later) is None


def test_private_addresses_are_refused_outside_insecure_mode(
    tmp_path: Path, seaweedfs: SeaweedFS, s3_settings: Settings, store: ObjectStore, source: Source
) -> None:
    env = make_env(tmp_path, **s3_env(seaweedfs))
    env["RECEIVER_DATABASE_URL"] = s3_settings.database_url
    env.pop("RECEIVER_INSECURE")
    env["RECEIVER_PUBLIC_URL"] = "https://receiver.example.com"
    env["EVOLINK_BASE_URL"] = "https://api.evolink.ai"
    settings = Settings.from_env(env)
    db = open_database(settings.database_url)
    migrate(db)
    job_id = completed_job(db, source.url)
    worker = ArchiveWorker(db, store, settings)
    assert worker.run_once()
    assert task_of(db, job_id).state == "failed"
    assert "https only" in str(job_of(db, job_id).attention)
    job_id = completed_job(db, source.url.replace("http://", "https://"))
    assert worker.run_once()
    assert "not a public address" in str(job_of(db, job_id).attention)
    assert source.hits == 0
    worker.stop()
    db.close()


@pytest.mark.parametrize("url", ["https://h:99999/v.mp4", "http://127.0.0.1:1/v\x01.mp4"])
def test_a_broken_url_fails_the_task_visibly(
    worker_db: Database, worker: ArchiveWorker, url: str
) -> None:
    job_id = completed_job(worker_db, url)
    assert worker.run_once()
    task = task_of(worker_db, job_id)
    assert task.state == "failed"
    assert "not a valid URL" in str(task.last_error)


def test_an_upload_abandoned_by_a_dead_worker_is_aborted(
    s3_settings: Settings,
    store: ObjectStore,
    worker_db: Database,
    source: Source,
    *,
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    key = key_of(worker_db, s3_settings, job_id)
    # A worker claimed the task, opened an upload, and was killed: its lease lapsed.
    upload_id = store.start_upload(key, content_type="video/mp4")
    store.upload_part(key, upload_id, 1, b"x" * 1024)
    run_sql(
        worker_db,
        "UPDATE archive_tasks SET state = 'running', lease_owner = 'dead', "
        "lease_expires_at = :past, upload_id = :u",
        past=clock.to_db(clock.now()),
        u=upload_id,
    )
    assert worker.run_once()
    assert job_of(worker_db, job_id).status == "stored"
    assert store.open_uploads(key) == []
    assert digest_of(store, key) == hashlib.sha256(source.data).hexdigest()


def test_an_upload_a_dead_worker_never_wrote_down_is_swept_at_the_end(
    s3_settings: Settings,
    store: ObjectStore,
    worker_db: Database,
    source: Source,
    *,
    worker: ArchiveWorker,
    job_id: str,
) -> None:
    key = key_of(worker_db, s3_settings, job_id)
    # Killed between opening the upload and journaling its id: the task row knows nothing.
    store.start_upload(key, content_type="video/mp4")
    neighbour = f"{key}.other"
    kept = store.start_upload(neighbour, content_type="video/mp4")
    assert worker.run_once()
    assert job_of(worker_db, job_id).status == "stored"
    assert digest_of(store, key) == hashlib.sha256(source.data).hexdigest()
    assert [u["UploadId"] for u in store.open_uploads(key)] == [kept]  # only its own key
    store.abort_upload(neighbour, kept)


def test_a_worker_killed_with_sigkill_mid_upload_is_finished_by_the_next_one(
    tmp_path: Path,
    seaweedfs: SeaweedFS,
    s3_settings: Settings,
    store: ObjectStore,
    worker_db: Database,
) -> None:
    src = Source(video(16 * MiB, seed=12))
    src.trickle = True  # about 3 s for the whole file: time to kill it half-way
    src.ranges = True
    env = {
        **os.environ,
        **make_env(
            tmp_path,
            RECEIVER_PART_SIZE="5MiB",
            RECEIVER_DATABASE_URL=s3_settings.database_url,
            RECEIVER_S3_BUCKET=s3_settings.s3_bucket,
            RECEIVER_LEASE_SECONDS="2",
            **s3_env(seaweedfs),
        ),
    }
    app = Starlette(routes=[Route("/v.mp4", src.endpoint)])
    with run_server(app) as base:
        job_id = completed_job(worker_db, f"{base}/v.mp4")
        first = spawn_worker(env, tmp_path / "first.log")
        try:
            wait_for(lambda: journaled(worker_db, job_id) >= 1, first, tmp_path / "first.log")
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert job_of(worker_db, job_id).status == "completed"  # not stored yet
        second = spawn_worker(env, tmp_path / "second.log")
        try:
            wait_for(
                lambda: job_of(worker_db, job_id).status == "stored",
                second,
                tmp_path / "second.log",
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    asset = asset_of(worker_db, job_id)
    assert asset.sha256 == hashlib.sha256(src.data).hexdigest()
    assert asset.size_bytes == len(src.data)
    listed = [item.key for page in store.list_pages("") for item in page]
    assert listed == [asset.object_key]  # exactly one object
    assert store.open_uploads() == []
    # The second worker resumed: it read the file under If-Range and stored only the rest.
    assert src.asked[-1] == ("bytes=0-", src.etag)
    assert "archive.resuming" in (tmp_path / "second.log").read_text()


def test_two_workers_racing_for_one_job_store_one_object(
    s3_settings: Settings, store: ObjectStore, worker_db: Database, source: Source, job_id: str
) -> None:
    workers = [ArchiveWorker(worker_db, store, s3_settings) for _ in range(2)]
    start = threading.Barrier(2)
    claimed: list[bool] = []

    def race(worker: ArchiveWorker) -> None:
        start.wait()
        claimed.append(worker.run_once())

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(claimed) == [False, True]  # the database let exactly one claim it
    assert job_of(worker_db, job_id).status == "stored"
    assert source.hits == 1
    listed = [item.key for page in store.list_pages("") for item in page]
    assert len(listed) == 1
    for worker in workers:
        worker.stop()


def spawn_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "receiver", "worker"], env=env, stdout=out, stderr=out
        )


def journaled(db: Database, job_id: str, result_index: int = 0) -> int:
    with db.reading() as conn:
        return len(ArchiveTasks(conn).journaled_parts(job_id, result_index))


def wait_for(
    condition: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the worker exited early:\n{log.read_text()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting; worker log:\n{log.read_text()}")
        time.sleep(0.05)


def test_a_worker_that_lost_its_lease_records_nothing(
    s3_settings: Settings,
    store: ObjectStore,
    worker_db: Database,
    job_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = ArchiveWorker(worker_db, store, s3_settings, lease_seconds=0.3)
    claim = worker.claim

    def claimed_then_stolen() -> ArchiveAttempt | None:
        attempt = claim()
        # Another worker takes the task over while this one is still busy.
        run_sql(worker_db, "UPDATE archive_tasks SET lease_owner = 'other'")
        return attempt

    monkeypatch.setattr(worker, "claim", claimed_then_stolen)
    assert worker.run_once()
    task = task_of(worker_db, job_id)
    assert (task.state, task.lease_owner) == ("running", "other")
    assert job_of(worker_db, job_id).status == "completed"
    worker.stop()


def test_shutdown_stops_at_a_part_boundary_and_the_next_worker_resumes(
    s3_settings: Settings, store: ObjectStore, worker_db: Database, source: Source, job_id: str
) -> None:
    source.trickle = True  # about 1.5 s for the whole 7 MiB, parts of 5 MiB
    worker = ArchiveWorker(worker_db, store, s3_settings)
    worker.start()
    deadline = time.monotonic() + 10
    while not task_of(worker_db, job_id).upload_id:
        assert time.monotonic() < deadline, "the archive never started"
        time.sleep(0.02)
    worker.stop(timeout=10)
    task = task_of(worker_db, job_id)
    assert (task.state, task.attempts) == ("queued", 0)
    journal = run_sql(worker_db, "SELECT part_number, size_bytes FROM upload_parts")
    assert [(r["part_number"], r["size_bytes"]) for r in journal] == [(1, 5 * MiB)]
    assert len(store.open_uploads()) == 1  # kept open, to be resumed

    source.trickle = False
    again = ArchiveWorker(worker_db, store, s3_settings)
    with capture_logs() as logs:
        assert again.run_once()
    resumed = [entry for entry in logs if entry["event"] == "archive.resuming"]
    assert [entry["offset"] for entry in resumed] == [5 * MiB]
    assert not [e for e in logs if e["event"] == "archive.source_changed"]
    assert job_of(worker_db, job_id).status == "stored"
    asset = asset_of(worker_db, job_id)
    assert asset.sha256 == hashlib.sha256(source.data).hexdigest()
    assert digest_of(store, str(asset.object_key)) == asset.sha256
    assert store.open_uploads() == []
    assert run_sql(worker_db, "SELECT * FROM upload_parts") == []
    again.stop()


def test_a_changed_source_is_not_resumed(
    store: ObjectStore, worker_db: Database, source: Source, worker: ArchiveWorker, job_id: str
) -> None:
    source.statuses = [0]
    assert worker.run_once()  # half-way, one part journaled
    # The source now serves another file: the stored part must not be reused.
    source.data = video(7 * MiB, seed=99)
    make_due(worker_db)
    with capture_logs() as logs:
        assert worker.run_once()
    assert any(entry["event"] == "archive.source_changed" for entry in logs)
    assert asset_of(worker_db, job_id).sha256 == hashlib.sha256(source.data).hexdigest()
    assert store.open_uploads() == []


def test_a_worker_whose_lease_lapsed_leaves_the_new_owners_upload_alone(
    s3_settings: Settings, store: ObjectStore, worker_db: Database, job_id: str
) -> None:
    late = ArchiveWorker(worker_db, store, s3_settings)
    attempt = late.claim()
    assert attempt is not None
    key = asset_key(s3_settings.s3_prefix, job_id, attempt.job.created_at)
    assert attempt.key == key
    # Another worker took the task over and is uploading.
    theirs = store.start_upload(key, content_type="video/mp4")
    run_sql(worker_db, "UPDATE archive_tasks SET lease_owner = 'other', upload_id = :u", u=theirs)
    attempt.failed(FetchError("the source is gone", permanent=True))
    assert [u["UploadId"] for u in store.open_uploads()] == [theirs]
    task_row = task_of(worker_db, job_id)
    assert (task_row.state, task_row.lease_owner) == ("running", "other")
    store.abort_upload(key, theirs)
    late.stop()
