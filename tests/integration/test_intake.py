"""The intake on a real SQLite database: one transaction, compare-and-set, no lost delivery."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from receiver import clock
from receiver.config import Settings
from receiver.intake import IncomingDelivery, ingest, receive_callback
from receiver.lifecycle import DeliveryOutcome, JobStatus
from receiver.providers import evolink_protocol
from receiver.providers.evolink import EvoLinkProvider
from receiver.store.database import Database
from receiver.tokens import CallbackClaims, CallbackSigner
from tests.conftest import run_sql
from tests.factories import make_job

pytestmark = pytest.mark.integration


def body(task_id: str = "task-1", status: str = "completed", **extra: Any) -> bytes:
    data: dict[str, Any] = {"id": task_id, "status": status, **extra}
    if status == "completed":
        data.setdefault("results", ["https://cdn.example.com/v.mp4"])
    return json.dumps(data).encode()


def deliver(db: Database, job_id: str, raw: bytes, source: str = "callback") -> DeliveryOutcome:
    snapshot = evolink_protocol.parse_task_json(raw)
    delivery = IncomingDelivery(provider="evolink", body=raw, source=source)
    return ingest(db, job_id, snapshot, delivery).outcome


def count(db: Database, table: str, job_id: str) -> int:
    (row,) = run_sql(db, f"SELECT COUNT(*) AS n FROM {table} WHERE job_id = :job_id", job_id=job_id)
    return int(row["n"])


def job_status(db: Database, job_id: str) -> JobStatus:
    with db.reading() as conn:
        row = conn.fetch_one("get_job", id=job_id)
    assert row is not None
    return JobStatus(row["status"])


def test_completed_callback_moves_the_job_and_enqueues_one_archive(db: Database) -> None:
    job_id = make_job(db)
    assert deliver(db, job_id, body()) == DeliveryOutcome.ACCEPTED
    assert job_status(db, job_id) == JobStatus.COMPLETED
    with db.reading() as conn:
        task = conn.fetch_one("get_archive_task", job_id=job_id, result_index=0)
        events = conn.fetch_all("list_job_events", job_id=job_id)
    assert task is not None
    assert task["source_url"] == "https://cdn.example.com/v.mp4"
    assert task["state"] == "queued"
    assert [e["type"] for e in events][-1] == "job.completed"


@pytest.mark.parametrize(
    ("created_ago", "url", "lives"),
    [
        (3600, "https://cdn.example.com/v.mp4", 24 * 3600 - 3600),  # 24 h after the task's start
        (None, "https://cdn.example.com/v.mp4", 24 * 3600),  # no start known: after arrival
        (90 * 3600, "https://cdn.example.com/v.mp4", 24 * 3600),  # a clock gone wrong: arrival
        (3600, "https://c.example.com/v.mp4?X-Amz-Date={date}&X-Amz-Expires=7200", 7200),
    ],
)
def test_the_link_deadline_comes_from_the_task_and_the_url(
    db: Database, created_ago: int | None, url: str, lives: int
) -> None:
    job_id = make_job(db)
    now = clock.now()
    extra: dict[str, Any] = {"results": [url.format(date=f"{now:%Y%m%dT%H%M%SZ}")]}
    if created_ago is not None:
        extra["created"] = int(now.timestamp()) - created_ago
    assert deliver(db, job_id, body(**extra)) == DeliveryOutcome.ACCEPTED
    (task,) = run_sql(db, "SELECT deadline_at FROM archive_tasks WHERE job_id = :j", j=job_id)
    left = (clock.from_db(task["deadline_at"]) - now).total_seconds()
    assert lives - 5 <= left <= lives + 1


def test_retries_and_late_statuses_change_nothing(db: Database) -> None:
    job_id = make_job(db)
    assert deliver(db, job_id, body(status="processing")) == DeliveryOutcome.ACCEPTED
    assert deliver(db, job_id, body()) == DeliveryOutcome.ACCEPTED
    assert deliver(db, job_id, body()) == DeliveryOutcome.DUPLICATE
    assert deliver(db, job_id, body(status="processing")) == DeliveryOutcome.STALE
    assert deliver(db, job_id, body(status="failed")) == DeliveryOutcome.STALE
    assert job_status(db, job_id) == JobStatus.COMPLETED
    assert count(db, "archive_tasks", job_id) == 1
    assert count(db, "deliveries", job_id) == 5
    # Only the two accepted deliveries wrote events: job.processing and job.completed.
    assert count(db, "events", job_id) == 2


def test_failed_keeps_the_provider_reason(db: Database) -> None:
    job_id = make_job(db)
    raw = body(status="failed", error={"code": "content_policy", "message": "refused"})
    assert deliver(db, job_id, raw) == DeliveryOutcome.ACCEPTED
    with db.reading() as conn:
        row = conn.fetch_one("get_job", id=job_id)
    assert row is not None
    assert (row["status"], row["error_code"], row["error_message"]) == (
        "failed",
        "content_policy",
        "refused",
    )
    assert count(db, "archive_tasks", job_id) == 0


def test_unknown_status_flags_the_job_and_leaves_it(db: Database) -> None:
    job_id = make_job(db)
    assert deliver(db, job_id, body(status="exploded")) == DeliveryOutcome.UNKNOWN_STATUS
    with db.reading() as conn:
        row = conn.fetch_one("get_job", id=job_id)
    assert row is not None
    assert row["status"] == "pending"
    assert "exploded" in row["attention"]


def test_completed_without_a_url_needs_attention(db: Database) -> None:
    job_id = make_job(db)
    assert deliver(db, job_id, body(results=[])) == DeliveryOutcome.ACCEPTED
    assert count(db, "archive_tasks", job_id) == 0
    with db.reading() as conn:
        row = conn.fetch_one("get_job", id=job_id)
    assert row is not None
    assert "no video URL" in row["attention"]


def test_task_mismatch_and_unknown_job_are_rejected_and_logged(db: Database) -> None:
    job_id = make_job(db)
    raw = body(task_id="task-other")
    snapshot = evolink_protocol.parse_task_json(raw)
    result = ingest(db, job_id, snapshot, IncomingDelivery(provider="evolink", body=raw))
    assert (result.outcome, result.status_code) == (DeliveryOutcome.REJECTED, 409)
    assert job_status(db, job_id) == JobStatus.PENDING
    result = ingest(db, "job_missing", snapshot, IncomingDelivery(provider="evolink", body=raw))
    assert (result.outcome, result.status_code) == (DeliveryOutcome.REJECTED, 404)
    with db.reading() as conn:
        logged = conn.fetch_all(
            "list_deliveries", job_id=None, outcome=None, task_id="task-other", since=None, limit=10
        )
    assert [row["outcome"] for row in logged] == ["rejected", "rejected"]


def test_callback_before_the_create_answer_sets_the_task_id(db: Database) -> None:
    job_id = make_job(db, task_id=None)
    assert job_status(db, job_id) == JobStatus.SUBMITTING
    assert deliver(db, job_id, body(task_id="task-early")) == DeliveryOutcome.ACCEPTED
    now = clock.to_db(clock.now())
    with db.transaction() as conn:
        conn.execute(
            "mark_job_submitted",
            id=job_id,
            task_id="task-early",
            provider_status="pending",
            estimated_seconds=1,
            credits_reserved=1.0,
            check_after=None,
            now=now,
        )
        row = conn.fetch_one("get_job", id=job_id)
    assert row is not None
    assert (row["status"], row["task_id"]) == ("completed", "task-early")


def test_sixteen_identical_deliveries_at_once_make_one_change(
    settings: Settings, db: Database
) -> None:
    job_id = make_job(db)
    raw = body()
    barrier = threading.Barrier(16)
    outcomes: list[DeliveryOutcome] = []
    lock = threading.Lock()

    def send() -> None:
        # Each thread its own connection: the database, not a Python lock, must decide.
        barrier.wait()
        outcome = deliver(db, job_id, raw)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes).count(DeliveryOutcome.ACCEPTED) == 1
    assert outcomes.count(DeliveryOutcome.DUPLICATE) == 15
    assert count(db, "archive_tasks", job_id) == 1
    assert count(db, "deliveries", job_id) == 16
    with db.reading() as conn:
        types = [e["type"] for e in conn.fetch_all("list_job_events", job_id=job_id)]
    assert types.count("job.completed") == 1


def test_receive_callback_checks_the_token_first(settings: Settings, db: Database) -> None:
    signer = CallbackSigner(settings.require_secret_keys(), max_age=3600)
    provider = EvoLinkProvider(api_key=None)
    job_id = make_job(db)
    other_job = make_job(db, task_id="task-2")
    good = signer.sign(CallbackClaims(provider="evolink", job_id=job_id))
    other = signer.sign(CallbackClaims(provider="evolink", job_id=other_job))

    def send(token: str, raw: bytes) -> tuple[DeliveryOutcome, int]:
        result = receive_callback(
            db, signer, provider, token, IncomingDelivery(provider="evolink", body=raw)
        )
        return result.outcome, result.status_code

    assert send("garbage", body()) == (DeliveryOutcome.REJECTED, 403)
    assert send(good, b"{not json") == (DeliveryOutcome.REJECTED, 400)
    # A valid token of another job cannot move this one.
    assert send(other, body()) == (DeliveryOutcome.REJECTED, 409)
    assert job_status(db, job_id) == JobStatus.PENDING
    assert job_status(db, other_job) == JobStatus.PENDING
    assert send(good, body()) == (DeliveryOutcome.ACCEPTED, 200)
    provider.close()
