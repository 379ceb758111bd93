"""Watchdog, replay, retry and needs-attention on both databases (the provider scripted)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from receiver import clock
from receiver.archive.retry import NothingToRetry, retry_archive
from receiver.config import Settings
from receiver.context import Context
from receiver.errors import ProviderNotFound, ProviderRateLimited
from receiver.intake import IncomingDelivery, ingest, reject
from receiver.jobs import needs_attention
from receiver.providers import evolink_protocol
from receiver.providers.base import TaskSnapshot
from receiver.replay import failed_delivery_ids, replay, replay_many
from receiver.store.database import Database
from receiver.watchdog import Watchdog
from tests.conftest import run_sql
from tests.factories import make_job
from tests.fakes import ScriptedProvider, task
from tests.integration.test_intake import body

pytestmark = pytest.mark.integration


def overdue(db: Database, job_id: str) -> None:
    run_sql(
        db,
        "UPDATE jobs SET check_after = :t WHERE id = :id",
        t=clock.to_db(clock.now() - timedelta(days=1)),  # past any grace period
        id=job_id,
    )


def status(db: Database, job_id: str) -> str:
    (row,) = run_sql(db, "SELECT status FROM jobs WHERE id = :id", id=job_id)
    return str(row["status"])


def test_watchdog_recovers_a_lost_callback(settings: Settings, db: Database) -> None:
    job_id = make_job(db, task_id="task-lost")
    provider = ScriptedProvider(lambda task_id: task(task_id, "completed"))
    watchdog = Watchdog(db, settings, lambda _name: provider)
    assert watchdog.run_once().checked == 0  # not due yet
    overdue(db, job_id)
    summary = watchdog.run_once()
    assert (summary.checked, summary.recovered) == (1, 1)
    assert status(db, job_id) == "completed"
    (delivery,) = run_sql(db, "SELECT source, outcome FROM deliveries WHERE job_id = :j", j=job_id)
    assert (delivery["source"], delivery["outcome"]) == ("reconcile", "accepted")
    (archive,) = run_sql(
        db, "SELECT state, source_url FROM archive_tasks WHERE job_id = :j", j=job_id
    )
    assert archive["source_url"] == "https://cdn.example.com/task-lost.mp4"
    assert watchdog.run_once().checked == 0  # finished jobs are left alone


def test_watchdog_backs_off_while_running_and_notes_progress(
    settings: Settings, db: Database
) -> None:
    job_id = make_job(db, task_id="task-slow")
    provider = ScriptedProvider(lambda task_id: task(task_id, "processing", progress=40))
    watchdog = Watchdog(db, settings, lambda _name: provider)
    overdue(db, job_id)
    summary = watchdog.run_once()
    assert (summary.still_running, summary.recovered) == (1, 0)
    assert status(db, job_id) == "processing"
    (row,) = run_sql(db, "SELECT check_after, check_attempts FROM jobs WHERE id = :id", id=job_id)
    assert row["check_attempts"] == 1
    assert row["check_after"] > clock.to_db(clock.now() + timedelta(seconds=20))
    overdue(db, job_id)
    watchdog.run_once()
    # The same status again is not a new delivery: no noise in the log.
    assert len(run_sql(db, "SELECT id FROM deliveries WHERE job_id = :j", j=job_id)) == 1


def test_watchdog_honours_429_and_flags_unknown_tasks(settings: Settings, db: Database) -> None:
    limited, gone = make_job(db, task_id="task-a"), make_job(db, task_id="task-b")

    def answer(task_id: str) -> TaskSnapshot:
        if task_id == "task-a":
            raise ProviderRateLimited("slow down", retry_after=120)
        raise ProviderNotFound("no such task")

    provider = ScriptedProvider(answer)
    watchdog = Watchdog(db, settings, lambda _name: provider)
    overdue(db, limited)
    summary = watchdog.run_once()
    assert summary.rate_limited
    (row,) = run_sql(db, "SELECT check_after FROM jobs WHERE id = :id", id=limited)
    assert row["check_after"] > clock.to_db(clock.now() + timedelta(seconds=100))
    overdue(db, gone)
    watchdog.run_once()
    (row,) = run_sql(db, "SELECT attention FROM jobs WHERE id = :id", id=gone)
    assert "does not know" in row["attention"]


def test_reconcile_on_demand_asks_about_every_unfinished_job(
    settings: Settings, db: Database
) -> None:
    jobs = [make_job(db, task_id=f"task-{n}") for n in range(3)]
    provider = ScriptedProvider(lambda task_id: task(task_id, "failed", error={"code": "x"}))
    summary = Watchdog(db, settings, lambda _name: provider).run_once(
        submitted_before=clock.now() + timedelta(seconds=1)
    )
    assert summary.recovered == 3
    assert {status(db, job_id) for job_id in jobs} == {"failed"}


def test_replay_reruns_rejected_deliveries_and_changes_nothing_twice(
    settings: Settings, db: Database
) -> None:
    ctx = Context(settings)
    job_id = make_job(db)
    raw = body()
    # A delivery rejected while naming the job (e.g. the job row was not there yet).
    run_sql(db, "UPDATE jobs SET task_id = 'task-elsewhere' WHERE id = :id", id=job_id)
    first = ingest(
        db,
        job_id,
        evolink_protocol.parse_task_json(raw),
        IncomingDelivery(provider="evolink", body=raw),
    )
    assert first.outcome == "rejected"
    run_sql(db, "UPDATE jobs SET task_id = 'task-1' WHERE id = :id", id=job_id)

    ids = list(failed_delivery_ids(ctx))
    assert ids == [first.delivery_id]
    summary = replay_many(ctx, ids)
    assert summary.count("replayed") == 1
    assert status(db, job_id) == "completed"
    # Replaying again, or the accepted delivery itself, changes nothing.
    assert replay(ctx, first.delivery_id).verdict == "already_done"
    assert list(failed_delivery_ids(ctx)) == [first.delivery_id]
    tasks = run_sql(db, "SELECT job_id FROM archive_tasks WHERE job_id = :j", j=job_id)
    assert len(tasks) == 1
    ctx.close()


def test_replay_requeues_a_failed_archive_and_retry_reopens_an_expired_one(
    settings: Settings, db: Database
) -> None:
    ctx = Context(settings)
    job_id = make_job(db)
    accepted = ingest(
        db,
        job_id,
        evolink_protocol.parse_task_json(body()),
        IncomingDelivery(provider="evolink", body=body()),
    )
    run_sql(db, "UPDATE archive_tasks SET state = 'failed', last_error = 'S3 down'")
    assert job_id in [job.id for job, _reason in needs_attention(ctx).jobs]
    assert list(failed_delivery_ids(ctx, job_id=job_id)) == [accepted.delivery_id]
    assert replay(ctx, accepted.delivery_id).verdict == "replayed"
    (archive,) = run_sql(
        db, "SELECT state, attempts FROM archive_tasks WHERE job_id = :j", j=job_id
    )
    assert (archive["state"], archive["attempts"]) == ("queued", 0)

    with pytest.raises(NothingToRetry, match="queued"):
        retry_archive(ctx, job_id)
    run_sql(db, "UPDATE archive_tasks SET state = 'expired'")
    run_sql(db, "UPDATE jobs SET status = 'expired' WHERE id = :id", id=job_id)
    retry_archive(ctx, job_id)
    (archive,) = run_sql(db, "SELECT state, confirm_first, deadline_at FROM archive_tasks")
    assert archive["state"] == "queued"
    assert archive["confirm_first"] == 1  # a fresh link is fetched from the provider first
    assert archive["deadline_at"] > clock.to_db(clock.now() + timedelta(hours=23))
    assert status(db, job_id) == "completed"
    ctx.close()


def test_needs_attention_lists_what_a_person_must_see(settings: Settings, db: Database) -> None:
    ctx = Context(settings)
    quiet = make_job(db, task_id="task-quiet")
    late = make_job(db, task_id="task-late")
    overdue(db, late)
    odd = make_job(db, task_id="task-odd")
    ingest(
        db,
        odd,
        evolink_protocol.parse_task_json(body(task_id="task-odd", status="weird")),
        IncomingDelivery(provider="evolink", body=b"{}"),
    )
    # A rejected delivery that names one of our tasks (say, signed with a dropped key).
    raw = json.dumps({"id": "task-quiet", "status": "completed"}).encode()
    reject(db, IncomingDelivery(provider="evolink", body=raw), "bad_token", "not ours", 403)
    run_sql(db, "UPDATE deliveries SET task_id = 'task-quiet' WHERE outcome = 'rejected'")
    found = needs_attention(ctx)
    reasons = {job.id: reason for job, reason in found.jobs}
    assert quiet not in reasons
    assert "overdue" in reasons[late]
    assert "weird" in reasons[odd]
    assert [d.task_id for d in found.rejections] == ["task-quiet"]
    ctx.close()
