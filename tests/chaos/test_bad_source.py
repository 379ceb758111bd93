"""A video source having a bad day: bodies cut off half-way, 500s, a slow trickle, and
one that never serves at all.

Each kind of fault is given to its own group of jobs (the simulator keeps, per task, the
config current when the task was created). Two workers compete for the archives with
short leases, so a download that outlives its lease without renewing it would be taken
over and fetched twice. Every job but the never-served ones must be stored once; those
must end failed, with the reason, once their attempts are spent.
"""

from __future__ import annotations

import time

import pytest

from tests.chaos._audit import audit, wait_settled
from tests.chaos._scale import MiB, Scale
from tests.chaos.conftest import Workers, configure, submit_many
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]

_MAX_ATTEMPTS = 4
_TRICKLE_BYTES_PER_SECOND = 2 * MiB


@pytest.fixture
def stack_overrides() -> dict[str, str]:
    return {
        "RECEIVER_PART_SIZE": "5MiB",
        "RECEIVER_LEASE_SECONDS": "2",
        "RECEIVER_ARCHIVE_MAX_ATTEMPTS": str(_MAX_ATTEMPTS),
    }


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_source_that_truncates_fails_and_trickles(stack: Stack, scale: Scale) -> None:
    started = time.monotonic()
    count = scale.bad_source_jobs
    groups = {
        # Cut off twice: once after a part was stored, once in the ranged rest.
        "truncated": {"video_bytes": scale.video_bytes, "video_truncate_first": 2},
        "500s": {"video_bytes": scale.video_bytes, "video_fail_first": _MAX_ATTEMPTS - 1},
        # Several leases long: only renewals keep the other worker away.
        "trickle": {
            "video_bytes": 6 * MiB,
            "video_bytes_per_second": _TRICKLE_BYTES_PER_SECOND,
        },
        "never served": {"video_fail_first": 10_000},
    }
    plain = {"video_truncate_first": 0, "video_fail_first": 0, "video_bytes_per_second": None}
    workers = Workers(stack, 1)
    try:
        for name, faults in groups.items():
            configure(stack, delay=0.5, **{**plain, **faults})
            submit_many(stack, count, prompt=name)
        wait_settled(stack.env, count * len(groups), timeout=300)
        result = audit(
            "bad source",
            stack.env,
            stack.simulator_url,
            expect_stored=count * (len(groups) - 1),
            expect_terminal=count,
        )
    finally:
        workers.stop()
    tasks = stack.simulator("GET", "/_simulator/stats")["tasks"].values()
    truncated = sum(t["truncated_downloads"] for t in tasks)
    failed = sum(t["failed_downloads"] for t in tasks)
    print(f"[chaos] bad source: {truncated} bodies cut off, {failed} answers 500")
    assert truncated == 2 * count
    assert failed == count * (_MAX_ATTEMPTS - 1) + count * _MAX_ATTEMPTS
    assert all("answered 500" in reason for reason in result.reasons)
    print(f"[chaos] bad source: wall time {time.monotonic() - started:.1f}s")
