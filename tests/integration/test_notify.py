"""Outbound notifications: signed per Standard Webhooks, retried with a stable id, 410 honoured."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from receiver import clock
from receiver.config import Settings
from receiver.intake import IncomingDelivery, ingest
from receiver.notify import Notifier
from receiver.providers import evolink_protocol
from receiver.store.database import Database, open_database
from receiver.store.migrate import migrate
from tests.conftest import make_env, run_sql
from tests.factories import make_job
from tests.integration.test_intake import body
from tests.webhooks import Subscriber, new_secret, subscriber

pytestmark = pytest.mark.integration

SECRET = new_secret()


@pytest.fixture
def endpoint() -> Iterator[tuple[Subscriber, str]]:
    with subscriber(SECRET) as found:
        yield found


def setup(tmp_path: Path, database_url: str, url: str) -> tuple[Database, Notifier]:
    env = make_env(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        RECEIVER_NOTIFY_URLS=url,
        RECEIVER_NOTIFY_SECRET=SECRET,
    )
    settings = Settings.from_env(env)
    db = open_database(settings.database_url)
    migrate(db)
    return db, Notifier(db, settings, owner="test-notifier")


def fail_job(db: Database, task: str) -> str:
    job_id = make_job(db, task_id=task)
    raw = body(task_id=task, status="failed", error={"code": "policy", "message": "no"})
    ingest(
        db,
        job_id,
        evolink_protocol.parse_task_json(raw),
        IncomingDelivery(provider="evolink", body=raw),
    )
    return job_id


def due_now(db: Database) -> None:
    run_sql(db, "UPDATE notifications SET next_attempt_at = :now", now=clock.to_db(clock.now()))


def test_final_events_are_signed_and_retried_with_a_stable_id(
    tmp_path: Path, database_url: str, endpoint: tuple[Subscriber, str]
) -> None:
    subscriber, url = endpoint
    db, notifier = setup(tmp_path, database_url, url)
    job_id = fail_job(db, "task-n1")
    subscriber.answers = [500, 503]
    for _ in range(3):
        notifier.run_once()
        due_now(db)
    ids = {webhook_id for webhook_id, _ in subscriber.received}
    assert len(subscriber.received) == 3
    assert len(ids) == 1  # the same webhook-id on every retry
    payload = subscriber.received[-1][1]
    assert payload["type"] == "job.failed"
    assert payload["data"]["job"]["id"] == job_id
    assert payload["data"]["job"]["error"]["code"] == "policy"
    (row,) = run_sql(db, "SELECT state, attempts FROM notifications")
    assert (row["state"], row["attempts"]) == ("delivered", 3)
    notifier.close()
    db.close()


def test_gone_disables_the_subscription(
    tmp_path: Path, database_url: str, endpoint: tuple[Subscriber, str]
) -> None:
    subscriber, url = endpoint
    db, notifier = setup(tmp_path, database_url, url)
    notifier.run_once()
    subscriber.answers = [410]
    fail_job(db, "task-n2")
    notifier.run_once()
    fail_job(db, "task-n3")
    notifier.run_once()
    assert len(subscriber.received) == 1
    (sub,) = run_sql(db, "SELECT disabled_at FROM subscriptions")
    assert sub["disabled_at"] is not None
    assert [r["state"] for r in run_sql(db, "SELECT state FROM notifications")] == ["disabled"]
    notifier.close()
    db.close()


def test_unsafe_endpoints_are_refused(tmp_path: Path, database_url: str) -> None:
    env = make_env(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        RECEIVER_NOTIFY_SECRET=SECRET,
        RECEIVER_NOTIFY_URLS="https://127.0.0.1:9/hook",
    )
    env.pop("RECEIVER_INSECURE")
    env["RECEIVER_PUBLIC_URL"] = "https://r.example.com"
    env["EVOLINK_BASE_URL"] = "https://api.evolink.ai"
    settings = Settings.from_env(env)
    db = open_database(settings.database_url)
    migrate(db)
    notifier = Notifier(db, settings, owner="test-notifier")
    notifier.run_once()
    fail_job(db, "task-n4")
    notifier.run_once()
    (row,) = run_sql(db, "SELECT state, last_error FROM notifications")
    assert row["state"] == "failed"
    assert "not a public address" in row["last_error"]
    notifier.close()
    db.close()


def test_a_bad_secret_names_its_variable(tmp_path: Path) -> None:
    from receiver.errors import ConfigError

    with pytest.raises(ConfigError, match="RECEIVER_NOTIFY_SECRET"):
        Settings.from_env(make_env(tmp_path, RECEIVER_NOTIFY_SECRET="whsec_short"))


def test_events_from_before_the_notifier_started_are_sent_unless_stale(
    tmp_path: Path, database_url: str, endpoint: tuple[Subscriber, str]
) -> None:
    subscriber, url = endpoint
    db, notifier = setup(tmp_path, database_url, url)
    stale = fail_job(db, "task-old")
    # A final event that waited for a notifier longer than the retry window is dropped.
    long_ago = clock.to_db(clock.now() - timedelta(hours=25))
    run_sql(db, "UPDATE notify_outbox SET created_at = :t WHERE job_id = :j", t=long_ago, j=stale)
    fresh = fail_job(db, "task-while-down")  # no notifier was running yet
    notifier.run_once()
    assert [payload["data"]["job"]["id"] for _, payload in subscriber.received] == [fresh]
    assert run_sql(db, "SELECT event_seq FROM notify_outbox") == []
    notifier.close()
    db.close()


def test_two_notifiers_send_each_notification_once(
    tmp_path: Path, database_url: str, endpoint: tuple[Subscriber, str]
) -> None:
    subscriber, url = endpoint
    db, first = setup(tmp_path, database_url, url)
    second = Notifier(db, first._settings, owner="other-notifier")
    jobs = [fail_job(db, f"task-pair-{n}") for n in range(25)]
    with ThreadPoolExecutor(2) as pool:
        for _ in range(4):
            list(pool.map(lambda notifier: notifier.run_once(), [first, second]))
    sent = [payload["data"]["job"]["id"] for _, payload in subscriber.received]
    assert sorted(sent) == sorted(jobs)
    states = run_sql(db, "SELECT state FROM notifications")
    assert [row["state"] for row in states] == ["delivered"] * len(jobs)
    first.close()
    second.close()
    db.close()
