"""PostgreSQL wakes workers at the commit of archive work (LISTEN/NOTIFY), not at a poll."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from receiver.store.database import Database
from receiver.store.wakeups import ArchiveWakeups
from tests.conftest import run_sql
from tests.factories import make_job, queue_archive

pytestmark = pytest.mark.integration


def enqueue(db: Database, job_id: str) -> None:
    with db.transaction() as conn:
        queue_archive(conn, job_id, link_lives=timedelta(0))
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
