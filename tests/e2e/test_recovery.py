"""Getting every paid video back: lost callbacks (watchdog, reconcile) and an S3 outage (replay)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver import jobs
from receiver.config import Settings
from receiver.context import Context
from receiver.devtools.seaweed import Credentials, SeaweedFS
from receiver.providers.base import JobRequest
from receiver.store.database import open_database
from tests.conftest import run_sql
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def submit_many(stack: Stack, count: int) -> list[str]:
    """Submit through the Python API (what a team's own script would do)."""
    with Context(Settings.from_env(stack.env)) as ctx:
        return [jobs.submit_job(ctx, JobRequest(prompt=f"clip {n}")).id for n in range(count)]


def listed(stack: Stack) -> dict[str, dict[str, object]]:
    lines = stack.cli("jobs", "--json", "--limit", "500").stdout.splitlines()
    return {job["id"]: job for job in map(json.loads, lines)}


def wait_until(predicate: object, what: str, timeout: float = 90) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("recovery", ["watchdog", "reconcile"])
def test_callbacks_lost_while_the_receiver_was_down_are_recovered(
    stack: Stack, recovery: str
) -> None:
    stack.simulator(
        "PATCH",
        "/_simulator/config",
        json={
            "delay": 0.3,
            "retry_delays": [0.05, 0.05, 0.05],
            "estimated_time": 1,
        },
    )
    stack.stop_receiver()
    ids = submit_many(stack, 20)

    def all_gave_up() -> bool:
        tasks = stack.simulator("GET", "/_simulator/stats")["tasks"].values()
        return sum(1 for t in tasks if t["callback_state"] == "gave_up") == 20

    wait_until(all_gave_up, "the provider to give up on every callback")
    if recovery == "watchdog":
        stack.start_receiver(RECEIVER_WATCHDOG_GRACE="1s", RECEIVER_WATCHDOG_INTERVAL="1s")
    else:
        # The watchdog will not look for an hour: only `receiver reconcile` can recover them.
        stack.start_receiver(RECEIVER_WATCHDOG_GRACE="1h", RECEIVER_WATCHDOG_INTERVAL="1h")
        out = stack.cli("reconcile").stdout
        assert "recovered 20" in out, out
    wait_until(
        lambda: all(listed(stack)[i]["status"] == "stored" for i in ids), "all 20 jobs to be stored"
    )
    job = stack.show(ids[0])
    assert [(d["source"], d["outcome"]) for d in job["deliveries"]] == [("reconcile", "accepted")]
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"]
    assert all(t["downloads"] == 1 for t in stats.values())


@pytest.fixture
def seaweedfs(tmp_path: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS of this test's own, since the test stops and restarts it."""
    credentials = Credentials("outage" + secrets.token_hex(4), secrets.token_urlsafe(24))
    with SeaweedFS(tmp_path / "seaweedfs", credentials) as server:
        yield server


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_s3_outage_is_survived_by_retries_and_replay(stack: Stack, seaweedfs: SeaweedFS) -> None:
    stack.stop_receiver()
    # Two attempts only, so that some archives give up during the outage and need a replay.
    stack.start_receiver(RECEIVER_ARCHIVE_MAX_ATTEMPTS="2")
    seaweedfs.stop()
    ids = submit_many(stack, 4)

    def archive_states() -> list[str]:
        found = stack.cli("jobs", "--needs-attention", "--json").stdout.splitlines()
        return [json.loads(line).get("reason", "") for line in found]

    wait_until(lambda: len(archive_states()) == 4, "every archive to give up while S3 is down")
    assert all("archiving failed" in reason for reason in archive_states())
    seaweedfs.start()

    dry = stack.cli("replay", "--failed", "--dry-run")
    assert len(dry.stdout.split()) == 4
    result = stack.cli("replay", "--failed")
    assert "replayed 4" in result.stderr, result.stderr
    wait_until(
        lambda: all(listed(stack)[i]["status"] == "stored" for i in ids),
        "all 4 jobs to be stored after the replay",
    )

    # Replaying what is already stored changes nothing and downloads nothing.
    delivery = stack.show(ids[0])["deliveries"][0]["id"]
    again = stack.cli("replay", delivery)
    assert "already done 1" in again.stderr
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"]
    assert sorted(t["downloads"] for t in stats.values()) == [1, 1, 1, 1]
    assert stack.cli("jobs", "--needs-attention").stdout.strip() == "nothing needs attention"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_short_s3_outage_heals_by_itself(stack: Stack, seaweedfs: SeaweedFS) -> None:
    seaweedfs.stop()
    ids = submit_many(stack, 2)
    db = open_database(stack.env["RECEIVER_DATABASE_URL"])

    def retried() -> bool:
        rows = run_sql(db, "SELECT last_error FROM archive_tasks WHERE state = 'queued'")
        return len(rows) == 2 and all("S3 store failed" in (r["last_error"] or "") for r in rows)

    wait_until(retried, "both archives to fail once and be scheduled again")
    seaweedfs.start()
    # No command: the worker's own backoff brings them in once S3 answers again.
    wait_until(
        lambda: all(listed(stack)[i]["status"] == "stored" for i in ids),
        "both jobs to be stored by the automatic retry",
    )
    db.close()
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"]
    assert sorted(t["downloads"] for t in stats.values()) == [1, 1]
