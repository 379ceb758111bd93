"""Every result of a task archived exactly once: one archive task, key and asset per result.

The archiver on a real SeaweedFS and real HTTP sources, as in ``test_archive.py`` (whose
fixtures and helpers this module shares).
"""

from __future__ import annotations

import hashlib
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from receiver import clock, events
from receiver.archive.worker import ArchiveWorker
from receiver.config import Settings
from receiver.devtools.seaweed import SeaweedFS
from receiver.lifecycle import JobStatus
from receiver.storage import ObjectStore
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.assets import Assets
from receiver.store.database import Database
from receiver.store.jobs import Jobs
from receiver.store.records import Asset
from tests.conftest import make_env, s3_env
from tests.integration import test_archive as archive
from tests.integration.test_archive import (
    MiB,
    Source,
    job_of,
    journaled,
    spawn_worker,
    video,
    wait_for,
)
from tests.servers import run_server

pytestmark = pytest.mark.integration

# The archiver's fixtures: a bucket on SeaweedFS, its settings and a migrated database.
s3_settings = archive.s3_settings
store = archive.store
worker_db = archive.worker_db


def completed_job_with(db: Database, urls: list[str], *, deadline_in: float = 3600) -> str:
    """A completed job whose task made one video per URL, each result's archive queued."""
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
        for index, url in enumerate(urls):
            ArchiveTasks(conn).enqueue(
                job_id,
                index,
                result_count=len(urls),
                source_url=url,
                confirm_first=False,
                deadline_at=now + timedelta(seconds=deadline_in),
                now=clock.to_db(now),
            )
    return job_id


def assets_of(db: Database, job_id: str) -> list[Asset]:
    with db.reading() as conn:
        return Assets(conn).for_job(job_id)


def test_a_job_is_stored_once_every_result_is_each_under_its_own_key(
    worker_db: Database, store: ObjectStore, s3_settings: Settings
) -> None:
    sources = [Source(video(6 * MiB, seed=20 + index)) for index in range(2)]
    app = Starlette(
        routes=[Route(f"/{i}.mp4", source.endpoint) for i, source in enumerate(sources)]
    )
    worker = ArchiveWorker(worker_db, store, s3_settings)
    try:
        with run_server(app) as base:
            job_id = completed_job_with(worker_db, [f"{base}/0.mp4", f"{base}/1.mp4"])
            assert worker.run_once()
            # One of two results stored: the job waits for the other.
            assert job_of(worker_db, job_id).status == JobStatus.COMPLETED
            assert worker.run_once()
            assert not worker.run_once()
    finally:
        worker.stop()
    job = job_of(worker_db, job_id)
    assert job.status == JobStatus.STORED
    assets = assets_of(worker_db, job_id)
    assert [a.result_index for a in assets] == [0, 1]
    assert [a.sha256 for a in assets] == [hashlib.sha256(s.data).hexdigest() for s in sources]
    assert [a.object_key.rsplit("/", 2)[-2:] for a in assets] == [
        [job_id, "0.mp4"],
        [job_id, "1.mp4"],
    ]
    assert [s.hits for s in sources] == [1, 1]
    with worker_db.reading() as conn:
        types = [e.type for e in events.for_job(conn, job_id)]
        stored = [e for e in events.for_job(conn, job_id) if e.type == "asset.stored"]
    assert types.count("result.stored") == 2
    # One event (one notification) for the job, listing both files.
    assert len(stored) == 1
    assert [a["key"] for a in stored[0].data["assets"]] == [a.object_key for a in assets]


def test_a_multi_result_archive_resumes_after_its_worker_is_killed(
    tmp_path: Path,
    seaweedfs: SeaweedFS,
    s3_settings: Settings,
    store: ObjectStore,
    worker_db: Database,
) -> None:
    sources = [Source(video(16 * MiB, seed=30 + index)) for index in range(2)]
    for source in sources:
        source.trickle = True  # about 3 s each: time to kill the worker half-way
        source.ranges = True
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
    app = Starlette(
        routes=[Route(f"/{i}.mp4", source.endpoint) for i, source in enumerate(sources)]
    )
    with run_server(app) as base:
        job_id = completed_job_with(worker_db, [f"{base}/0.mp4", f"{base}/1.mp4"])
        first = spawn_worker(env, tmp_path / "first.log")
        try:
            wait_for(
                lambda: journaled(worker_db, job_id, 0) + journaled(worker_db, job_id, 1) >= 1,
                first,
                tmp_path / "first.log",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        assert job_of(worker_db, job_id).status == JobStatus.COMPLETED  # not stored yet
        second = spawn_worker(env, tmp_path / "second.log")
        try:
            wait_for(
                lambda: job_of(worker_db, job_id).status == JobStatus.STORED,
                second,
                tmp_path / "second.log",
            )
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(30)
    assets = assets_of(worker_db, job_id)
    assert [a.sha256 for a in assets] == [hashlib.sha256(s.data).hexdigest() for s in sources]
    listed = sorted(item.key for page in store.list_pages("") for item in page)
    assert listed == sorted(a.object_key for a in assets)  # exactly one object per result
    assert store.open_uploads() == []
    # The result the first worker had begun was resumed, not started over.
    assert "archive.resuming" in (tmp_path / "second.log").read_text()


def test_an_expired_result_expires_the_job_and_the_others_are_still_stored(
    worker_db: Database, store: ObjectStore, s3_settings: Settings
) -> None:
    alive, dead = Source(video(1 * MiB, seed=40)), Source(video(1 * MiB, seed=41))
    dead.statuses = [410] * 10
    app = Starlette(routes=[Route("/0.mp4", alive.endpoint), Route("/1.mp4", dead.endpoint)])
    worker = ArchiveWorker(worker_db, store, s3_settings)
    try:
        with run_server(app) as base:
            job_id = completed_job_with(worker_db, [f"{base}/0.mp4", f"{base}/1.mp4"])
            while worker.run_once():
                pass
    finally:
        worker.stop()
    assert job_of(worker_db, job_id).status == JobStatus.EXPIRED
    assert [a.result_index for a in assets_of(worker_db, job_id)] == [0]
    with worker_db.reading() as conn:
        states = [task.state for task in ArchiveTasks(conn).for_job(job_id)]
    assert states == ["done", "expired"]
