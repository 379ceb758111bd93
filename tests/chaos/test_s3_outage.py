"""The S3 store stopped in the middle of a batch, then started again on the same ports.

Uploads in flight fail, new ones cannot open; the worker's backoff retries them until the
store answers again, resuming the uploads whose parts it had journaled. No command, no
replay: the batch must heal by itself.

This scenario found that a failed part upload used to fail the whole attempt and drop the
bytes already read, so the source was downloaded twice; part uploads now wait out an
outage in place (``RECEIVER_STORE_PATIENCE``, receiver/archive/upload.py).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from receiver.devtools.seaweed import Credentials, SeaweedFS
from tests.chaos._audit import audit, job_rows, wait_settled
from tests.chaos._scale import Scale
from tests.chaos.conftest import configure, submit_many
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]


@pytest.fixture
def seaweedfs(tmp_path: Path) -> Iterator[SeaweedFS]:
    """A SeaweedFS of this test's own, since the test stops and restarts it."""
    credentials = Credentials("outage" + secrets.token_hex(4), secrets.token_urlsafe(24))
    with SeaweedFS(tmp_path / "seaweedfs", credentials) as server:
        yield server


@pytest.fixture
def stack_overrides() -> dict[str, str]:
    return {"RECEIVER_PART_SIZE": "5MiB", "RECEIVER_ARCHIVE_CONCURRENCY": "3"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_s3_stopped_in_the_middle_of_a_batch(
    stack: Stack, seaweedfs: SeaweedFS, scale: Scale
) -> None:
    started = time.monotonic()
    configure(stack, video_bytes=scale.video_bytes, delay=0.5)
    submit_many(stack, scale.outage_archives)
    # The middle of the batch: a quarter stored, the rest queued or on their way.
    deadline = time.monotonic() + 120
    stored = 0
    while stored < scale.outage_archives // 4:
        assert time.monotonic() < deadline, "the batch never got going"
        time.sleep(0.2)
        stored = sum(1 for row in job_rows(stack.env) if row["status"] == "stored")
    stopped_at = time.monotonic()
    seaweedfs.stop()
    stop_seconds = time.monotonic() - stopped_at
    print(
        f"[chaos] s3 outage: store stopped at t={time.monotonic() - started:.1f}s "
        f"with {stored}/{scale.outage_archives} stored, for {scale.outage_seconds:.0f}s"
    )
    time.sleep(scale.outage_seconds)
    during = job_rows(stack.env)
    restarting = time.monotonic()
    seaweedfs.start()
    start_seconds = time.monotonic() - restarting
    print(
        f"[chaos] s3 outage: store back at t={time.monotonic() - started:.1f}s "
        f"(down {time.monotonic() - stopped_at:.1f}s: {stop_seconds:.1f}s to stop, "
        f"{start_seconds:.1f}s to start); "
        f"{sum(1 for r in during if r['last_error'])} archives had failed at least once"
    )
    wait_settled(stack.env, scale.outage_archives, timeout=300)
    audit("s3 outage", stack.env, stack.simulator_url, expect_stored=scale.outage_archives)
    print(f"[chaos] s3 outage: wall time {time.monotonic() - started:.1f}s")
