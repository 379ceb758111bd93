"""The repositories of jobs, deliveries, events, assets, deletions and staged frames, on both
databases: typed arguments in, frozen records out, and the compare-and-sets they promise."""

from __future__ import annotations

from datetime import timedelta

import pytest

from receiver import clock
from receiver.lifecycle import DeliveryOutcome, JobStatus
from receiver.store.assets import Assets
from receiver.store.database import Database
from receiver.store.deletions import Deletion, Deletions
from receiver.store.deliveries import Deliveries
from receiver.store.events import Events
from receiver.store.jobs import Jobs, JobState, TaskJob
from receiver.store.staged_inputs import StagedInputs
from tests.conftest import run_sql

pytestmark = pytest.mark.integration


def new_job(db: Database, *, task_id: str | None = "task-1", external: bool = False) -> str:
    job_id = clock.new_id("job")
    now = clock.now()
    with db.transaction() as conn:
        jobs = Jobs(conn)
        jobs.insert(
            job_id,
            provider="evolink",
            model="m",
            prompt="p",
            params={"external": True} if external else {"duration": 5},
            status=JobStatus.SUBMITTING,
            now=now,
        )
        if task_id is not None:
            assert jobs.mark_submitted(
                job_id,
                task_id=task_id,
                provider_status="pending",
                estimated_seconds=60,
                credits_reserved=None,
                check_after=now + timedelta(seconds=60),
                now=now,
            )
    return job_id


def log_delivery(
    db: Database, job_id: str | None, *, outcome: DeliveryOutcome, received_at: str
) -> str:
    delivery_id = clock.new_id("dlv")
    with db.transaction() as conn:
        Deliveries(conn).insert(
            delivery_id,
            provider="evolink",
            source="callback",
            job_id=job_id,
            task_id=None,
            provider_status=None,
            outcome=outcome,
            reason=None,
            client_addr="192.0.2.1",
            headers='{"user-agent": "test"}',
            body=b'{"id": "task-1"}',
            body_size=16,
            received_at=received_at,
        )
    return delivery_id


def test_a_job_is_written_and_read_back_typed(db: Database) -> None:
    job_id = new_job(db)
    with db.transaction() as conn:
        Jobs(conn).set_credits_estimated(job_id, 12.5)
    with db.reading() as conn:
        jobs = Jobs(conn)
        job = jobs.get(job_id)
        assert jobs.state(job_id) == JobState(job_id, JobStatus.PENDING, "task-1")
        assert jobs.task_job("evolink", "task-1") == TaskJob(job_id, external=False)
        assert jobs.task_job("kling", "task-1") is None
        assert jobs.get("job_missing") is None
        assert jobs.state("job_missing") is None
    assert job is not None
    assert job.params == {"duration": 5}
    assert job.status == JobStatus.PENDING
    assert job.credits_estimated == 12.5
    assert job.check_after is not None
    assert job.submitted_at is not None
    assert job.check_after - job.submitted_at == timedelta(seconds=60)


def test_advance_is_a_compare_and_set_on_the_status_read(db: Database) -> None:
    job_id = new_job(db)
    now = clock.to_db(clock.now())
    with db.transaction() as conn:
        jobs = Jobs(conn)
        moved = jobs.advance(
            job_id,
            from_status=JobStatus.PENDING,
            to=JobStatus.COMPLETED,
            provider_status="completed",
            progress=100,
            error_code=None,
            error_message=None,
            finished_at=now,
            now=now,
        )
        again = jobs.advance(
            job_id,
            from_status=JobStatus.PENDING,
            to=JobStatus.FAILED,
            provider_status="failed",
            progress=None,
            error_code="x",
            error_message="y",
            finished_at=now,
            now=now,
        )
    assert (moved, again) == (True, False)
    with db.reading() as conn:
        job = Jobs(conn).get(job_id)
    assert job is not None
    assert (job.status, job.progress, job.error_code) == (JobStatus.COMPLETED, 100, None)
    assert job.finished_at == clock.from_db(now)


def test_the_follow_up_writes_say_whether_they_happened(db: Database) -> None:
    job_id = new_job(db, task_id=None)
    now = clock.now()
    with db.transaction() as conn:
        jobs = Jobs(conn)
        assert jobs.set_task_id(job_id, "task-9")
        assert not jobs.set_task_id(job_id, "task-10")  # only where none was written
        assert not jobs.mark_stored(job_id, now=now)  # not completed
        assert jobs.mark_submit_failed(job_id, error_code="e", error_message="m", now=now)
        assert jobs.flag(job_id, "look at me", now=now)
        assert jobs.postpone_check(job_id, check_after=now + timedelta(hours=1), now=now)
    with db.reading() as conn:
        job = Jobs(conn).get(job_id)
        flagged = Jobs(conn).needs_attention(overdue_before=now, stuck_before=now, limit=10)
    assert job is not None
    assert (job.task_id, job.status, job.attention) == (
        "task-9",
        JobStatus.SUBMIT_FAILED,
        "look at me",
    )
    assert job.check_attempts == 1
    assert [(entry.job.id, entry.archive_state) for entry in flagged] == [(job_id, None)]
    with db.transaction() as conn:
        assert not Jobs(conn).delete_settled(job_id, status=JobStatus.STORED)
        assert Jobs(conn).delete_settled(job_id, status=JobStatus.SUBMIT_FAILED)


def test_adoption_and_import_make_one_job_per_task(db: Database) -> None:
    now = clock.now()
    with db.transaction() as conn:
        jobs = Jobs(conn)
        adopted = [
            jobs.adopt_external(
                clock.new_id("job"),
                provider="evolink",
                model="m",
                prompt="p",
                params={"external": True, "label": None},
                task_id="task-x",
                adopted_via="url-1",
                now=now,
            )
            for _ in range(2)
        ]
        imported = jobs.import_task(
            clock.new_id("job"),
            provider="evolink",
            model="m",
            prompt="p",
            params={"external": True, "imported": True},
            task_id="task-x",
            credits_reserved=None,
            created_at=now,
            now=now,
        )
        assert jobs.count_adoptions("url-1", since=now - timedelta(hours=24)) == 1
        assert jobs.count_adoptions("url-1", since=now + timedelta(seconds=1)) == 0
        owner = jobs.task_job("evolink", "task-x")
    assert (adopted, imported) == ([True, False], False)
    assert owner is not None
    assert owner.external


def test_pages_of_jobs_carry_their_asset(db: Database) -> None:
    first, second = new_job(db, task_id="t-1"), new_job(db, task_id="t-2")
    run_sql(
        db,
        "INSERT INTO assets (job_id, bucket, object_key, size_bytes, sha256, content_type, "
        "stored_at) VALUES (:job_id, 'b', 'k.mp4', 3, 'abc', 'video/mp4', :now)",
        job_id=first,
        now=clock.to_db(clock.now()),
    )
    with db.reading() as conn:
        jobs = Jobs(conn)
        page = jobs.page(limit=10)
        older = jobs.page(before=second, limit=10)
        counted = jobs.count(status=JobStatus.PENDING)
        asset = Assets(conn).get(first)
        stored = Assets(conn).stored_before(clock.now() + timedelta(seconds=1), limit=10)
    assert [entry.job.id for entry in page] == [second, first]
    assert page[0].asset is None
    assert page[1].asset == asset
    assert asset is not None
    assert asset.uri == "s3://b/k.mp4"
    assert [entry.job.id for entry in older] == [first]
    assert counted == 2
    assert stored == [first]


def test_failed_deliveries_are_paged_by_time_and_id(db: Database) -> None:
    job_id = new_job(db)
    start = clock.now() - timedelta(minutes=5)
    at = clock.to_db(start)
    # Three at the same moment: the id breaks the tie, so no page skips or repeats one.
    ids = sorted(
        log_delivery(db, job_id, outcome=DeliveryOutcome.REJECTED, received_at=at) for _ in range(3)
    )
    log_delivery(db, job_id, outcome=DeliveryOutcome.ACCEPTED, received_at=at)
    seen: list[str] = []
    with db.reading() as conn:
        deliveries = Deliveries(conn)
        page = deliveries.failed(limit=2)
        while page:
            seen += [delivery.id for delivery in page]
            page = deliveries.failed(after=page[-1], limit=2)
        newest = deliveries.newest(outcome=DeliveryOutcome.REJECTED, since=start, limit=10)
        stored = deliveries.get(ids[0])
    assert seen == ids
    assert len(newest) == 3
    assert stored is not None
    assert stored.headers == {"user-agent": "test"}
    assert stored.body_complete
    assert stored.delivery.received_at == start


def test_rejected_deliveries_are_purged_by_age_and_count(db: Database) -> None:
    now = clock.now()
    times = [now - timedelta(seconds=seconds) for seconds in (30, 20, 10)]
    for moment in times:
        log_delivery(db, None, outcome=DeliveryOutcome.REJECTED, received_at=clock.to_db(moment))
    with db.reading() as conn:
        assert Deliveries(conn).rejected_kept_from(1) == times[1]
        assert Deliveries(conn).rejected_kept_from(3) is None
    with db.transaction() as conn:
        assert Deliveries(conn).purge_rejected(before=times[1], limit=10) == 1
    with db.reading() as conn:
        assert len(Deliveries(conn).newest(limit=10)) == 2


def test_events_are_numbered_in_order(db: Database) -> None:
    job_id = new_job(db)
    now = clock.to_db(clock.now())
    with db.transaction() as conn:
        events = Events(conn)
        before = events.latest_seq()
        events.insert(job_id, "job.processing", data='{"a":1}', now=now)
        seq = events.insert_numbered(job_id, "job.failed", data="{}", now=now)
    with db.reading() as conn:
        events = Events(conn)
        assert events.latest_seq() == seq > before
        assert [event.type for event in events.for_job(job_id)] == ["job.processing", "job.failed"]
        assert [event.seq for event in events.after(seq - 1, job_id=job_id, limit=10)] == [seq]
        event = events.get(seq)
    assert event is not None
    assert (event.job_id, event.data, event.created_at) == (job_id, {}, clock.from_db(now))
    with db.transaction() as conn:
        assert Events(conn).delete_for_job(job_id) == 2


def test_a_deletion_is_audited_with_its_times(db: Database) -> None:
    created = clock.now() - timedelta(days=3)
    deletion = Deletion(
        job_id=clock.new_id("job"),
        provider="evolink",
        task_id="task-1",
        model="m",
        status="stored",
        credits=4.0,
        job_created_at=created,
        object_uri="s3://b/k.mp4",
        size_bytes=3,
        sha256="abc",
        deleted_by="someone@host",
        reason=None,
        deleted_at=clock.now(),
    )
    with db.transaction() as conn:
        Deletions(conn).insert(deletion)
    with db.reading() as conn:
        assert Deletions(conn).get(deletion.job_id) == deletion
        assert Deletions(conn).newest(limit=5) == [deletion]


def test_a_staged_frame_is_forgotten_only_when_unused_since(db: Database) -> None:
    now = clock.now()
    with db.transaction() as conn:
        frames = StagedInputs(conn)
        frames.touch("inputs/a.png", now=now)
        assert not frames.forget("inputs/a.png", before=now)  # used at that very moment
        assert frames.last_used("inputs/a.png") == now
        assert frames.forget("inputs/a.png", before=now + timedelta(seconds=1))
        assert frames.last_used("inputs/a.png") is None
