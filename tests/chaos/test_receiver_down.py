"""``receiver serve`` SIGKILLed while the provider's callbacks arrive, then started again.

Jobs are submitted in a steady stream; the receiver (and its in-process worker) is killed
once a third of the callbacks were heard, and stays down until every callback was
delivered or given up after the provider's three retries. Started again with a watchdog
that looks every second, it must recover every job whose callbacks were lost through the
provider's task API.
"""

from __future__ import annotations

import functools
import os
import signal
import threading
import time

import pytest

from receiver.store.database import open_database
from tests.chaos._audit import audit, job_rows, wait_settled
from tests.chaos._scale import Scale
from tests.chaos.conftest import KillLedger, configure, submit_many
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]

_DONE = frozenset({"delivered", "gave_up"})


@pytest.fixture
def stack_overrides() -> dict[str, str]:
    # A short lease, so that the killed receiver's archives are taken over quickly.
    return {"RECEIVER_PART_SIZE": "5MiB", "RECEIVER_LEASE_SECONDS": "3"}


def _kill_receiver(stack: Stack) -> None:
    assert stack.receiver is not None
    os.killpg(stack.receiver.pid, signal.SIGKILL)
    stack.receiver.wait()
    stack.receiver = None


def _delivered(stack: Stack) -> int:
    tasks = stack.simulator("GET", "/_simulator/stats")["tasks"].values()
    return sum(1 for t in tasks if t["callback_state"] == "delivered")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_receiver_down_while_callbacks_arrive(stack: Stack, scale: Scale) -> None:
    started = time.monotonic()
    configure(
        stack,
        video_bytes=scale.video_bytes // 2,
        delay=1.0,
        retry_delays=[0.2, 0.2, 0.2],
        estimated_time=1,
    )
    submitted: list[str] = []

    def submit_stream() -> None:
        for n in range(scale.down_jobs):
            submitted.extend(submit_many(stack, 1, prompt=f"stream {n}"))
            time.sleep(0.15)

    submitter = threading.Thread(target=submit_stream)
    submitter.start()
    db = open_database(stack.env["RECEIVER_DATABASE_URL"])
    ledger = KillLedger(stack, db)
    try:
        # A third of the callbacks heard, the rest still to come.
        while _delivered(stack) < scale.down_jobs // 3:
            time.sleep(0.05)
        assert stack.receiver is not None
        caught = ledger.kill(stack.receiver.pid, functools.partial(_kill_receiver, stack))
        killed_at = time.monotonic() - started
    finally:
        submitter.join()
        db.close()
    deadline = time.monotonic() + 120
    while True:
        tasks = stack.simulator("GET", "/_simulator/stats")["tasks"]
        if len(tasks) == scale.down_jobs and all(
            t["callback_state"] in _DONE for t in tasks.values()
        ):
            break
        assert time.monotonic() < deadline, "the provider never finished calling back"
        time.sleep(0.2)
    lost = {task_id for task_id, t in tasks.items() if t["callback_state"] == "gave_up"}
    print(
        f"[chaos] receiver down: killed at t={killed_at:.1f}s {caught}; "
        f"{len(lost)}/{scale.down_jobs} jobs lost every callback; restarting at "
        f"t={time.monotonic() - started:.1f}s"
    )
    assert lost, "the receiver was down for no callback at all"
    stack.start_receiver(RECEIVER_WATCHDOG_GRACE="1s", RECEIVER_WATCHDOG_INTERVAL="1s")
    wait_settled(stack.env, scale.down_jobs, timeout=300)
    audit(
        "receiver down",
        stack.env,
        stack.simulator_url,
        expect_stored=scale.down_jobs,
        forced_downloads=ledger.forced,
    )
    # The jobs whose callbacks were all lost came back through the watchdog, and only it.
    recovered = [r for r in job_rows(stack.env) if r["task_id"] in lost]
    sources = {
        tuple(d["source"] for d in stack.show(r["id"])["deliveries"] if d["outcome"] == "accepted")
        for r in recovered
    }
    print(f"[chaos] receiver down: accepted delivery sources of the lost jobs: {sorted(sources)}")
    assert all("reconcile" in s for s in sources)
    print(f"[chaos] receiver down: wall time {time.monotonic() - started:.1f}s")
