"""Workers SIGKILLed at random moments of a batch of archives, and started again.

Two ``receiver worker`` processes archive the batch; one is killed (no signal handler runs,
nothing is flushed) whenever the random clock says so, preferably one holding a lease, and
a new one takes its place. Short leases let the survivors take a killed worker's tasks
over quickly; the journal lets them resume its multipart uploads.

Right after each kill the simulator says which of the victim's archives had already been
sent their last byte: those must be downloaded again (see ``tests/chaos/_audit.py``), and
only those.
"""

from __future__ import annotations

import functools
import time

import pytest

from receiver.store.database import Database, open_database
from tests.chaos._audit import audit, wait_settled
from tests.chaos._scale import MiB, Scale, chaos_random
from tests.chaos.conftest import (
    KillLedger,
    Workers,
    configure,
    owner_pid,
    running_archives,
    serve_without_worker,
    submit_many,
)
from tests.conftest import run_sql
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]


def wait_until_stored(count: int, db: Database, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while run_sql(db, "SELECT COUNT(*) AS n FROM jobs WHERE status = 'stored'")[0]["n"] < count:
        assert time.monotonic() < deadline, f"fewer than {count} archives stored in {timeout}s"
        time.sleep(0.1)


@pytest.fixture
def stack_overrides() -> dict[str, str]:
    return {
        "RECEIVER_LEASE_SECONDS": "2",
        "RECEIVER_PART_SIZE": "5MiB",
        "RECEIVER_ARCHIVE_CONCURRENCY": "2",
    }


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_workers_killed_at_random_moments(stack: Stack, scale: Scale) -> None:
    rng = chaos_random("worker kills")
    started = time.monotonic()
    # A source a little slower than loopback (a CDN is), so that kills land mid-download
    # as well as mid-upload.
    configure(stack, video_bytes=scale.video_bytes, video_bytes_per_second=16 * MiB, delay=0.5)
    serve_without_worker(stack)
    workers = Workers(stack, 2)
    db = open_database(stack.env["RECEIVER_DATABASE_URL"])
    try:
        submit_many(stack, scale.kill_archives)
        moments: list[str] = []
        ledger = KillLedger(stack, db)
        # Random moments spread over the whole batch, whatever its speed: each kill waits
        # for a random number of archives to be stored, then a random fraction of a second.
        marks = sorted(rng.randrange(scale.kill_archives - 1) for _ in range(scale.kills))
        for mark in marks:
            wait_until_stored(mark, db)
            time.sleep(rng.uniform(0.0, 0.8))
            running = running_archives(db)
            # Prefer a worker in the middle of an archive: that is where a kill hurts.
            owners = [
                index for row in running if (index := workers.index_of(owner_pid(row))) is not None
            ]
            victim = rng.choice(owners) if owners else rng.randrange(len(workers.processes))
            caught = ledger.kill(
                workers.processes[victim].pid, functools.partial(workers.kill, victim)
            )
            moments.append(f"t={time.monotonic() - started:.1f}s worker {victim} {caught}")
        print(f"[chaos] worker kills: killed at {'; '.join(moments)}")
        wait_settled(stack.env, scale.kill_archives, timeout=300)
        audit(
            "worker kills",
            stack.env,
            stack.simulator_url,
            expect_stored=scale.kill_archives,
            forced_downloads=ledger.forced,
        )
    finally:
        workers.stop()
        db.close()
    print(f"[chaos] worker kills: wall time {time.monotonic() - started:.1f}s")
