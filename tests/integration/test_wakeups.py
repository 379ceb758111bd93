"""PostgreSQL wakes workers at the commit of archive work (LISTEN/NOTIFY), not at a poll."""

from __future__ import annotations

import threading
import time

import pytest

from receiver import clock
from receiver.store.database import Database
from receiver.store.wakeups import ArchiveWakeups
from tests.conftest import run_sql
from tests.integration.test_intake import make_job

pytestmark = pytest.mark.integration


def enqueue(db: Database, job_id: str) -> None:
    now = clock.to_db(clock.now())
    with db.transaction() as conn:
        conn.execute(
            "enqueue_archive",
            job_id=job_id,
            source_url="https://cdn.example.com/v.mp4",
            confirm_first=0,
            deadline_at=now,
            now=now,
        )
        # Nothing is sent before the commit: a worker woken now would find nothing.
        time.sleep(0.3)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_is_woken_at_the_commit_of_new_or_requeued_work(
    db: Database, database_url: str
) -> None:
    woken: list[float] = []
    event = threading.Event()

    def wake() -> None:
        woken.append(time.monotonic())
        event.set()

    listener = ArchiveWakeups(database_url, wake)
    listener.start()
    try:
        assert listener.listening.wait(10)
        assert event.wait(5)  # the one wake-up at connection time
        event.clear()
        job_id = make_job(db)
        started = time.monotonic()
        enqueue(db, job_id)
        committed = time.monotonic()
        assert event.wait(5), "no wake-up after the enqueue committed"
        assert woken[-1] >= committed - 0.05 > started
        assert woken[-1] - committed < 1.0

        # A task going back to the queue wakes workers too; other updates do not.
        event.clear()
        run_sql(db, "UPDATE archive_tasks SET state = 'running' WHERE job_id = :j", j=job_id)
        assert not event.wait(1.5)
        run_sql(db, "UPDATE archive_tasks SET state = 'queued' WHERE job_id = :j", j=job_id)
        assert event.wait(5)
    finally:
        listener.stop()
