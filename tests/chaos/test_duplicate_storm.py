"""A duplicate storm: every job delivered four times, shuffled, concurrently.

The provider's own callbacks are lost (the receiver is down while they come and go), then
each job gets three ``completed`` deliveries and one ``processing``, all shuffled together
and posted from a thread pool, so that copies of one job race each other and some
``processing`` bodies arrive after ``completed``. Exactly one delivery per job may carry
the ``completed`` status in; the rest are duplicates or stale, and every job is archived
once.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from receiver.config import Secret
from receiver.store.database import open_database
from receiver.tokens import CallbackClaims, CallbackSigner
from tests.chaos._audit import audit, job_rows, wait_settled
from tests.chaos._scale import Scale, chaos_random
from tests.chaos.conftest import configure, submit_many
from tests.conftest import SECRET_KEY, run_sql
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(600)]

_COPIES_COMPLETED = 3
_THREADS = 16


def _deliveries(stack: Stack, job_ids: list[str]) -> list[tuple[str, str, dict[str, Any]]]:
    """(job id, callback URL, body) for every delivery of the storm, unshuffled."""
    signer = CallbackSigner([Secret(SECRET_KEY)], max_age=3600)
    by_id = {row["id"]: row for row in job_rows(stack.env)}
    auth = {"Authorization": f"Bearer {stack.env['EVOLINK_API_KEY']}"}
    storm = []
    for job_id in job_ids:
        task = stack.simulator("GET", f"/v1/tasks/{by_id[job_id]['task_id']}", headers=auth)
        assert task["status"] == "completed", task
        url = signer.callback_url(
            stack.receiver_url, CallbackClaims(provider="evolink", job_id=job_id)
        )
        processing = {**task, "status": "processing", "progress": 50}
        processing.pop("results", None)
        storm += [(job_id, url, task)] * _COPIES_COMPLETED + [(job_id, url, processing)]
    return storm


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_duplicate_storm(stack: Stack, scale: Scale) -> None:
    rng = chaos_random("duplicate storm")
    started = time.monotonic()
    configure(stack, delay=0.3, retry_delays=[0.05, 0.05, 0.05])
    stack.stop_receiver()
    job_ids = submit_many(stack, scale.storm_jobs, prompt="storm")
    deadline = time.monotonic() + 120
    while True:
        tasks = stack.simulator("GET", "/_simulator/stats")["tasks"].values()
        if sum(1 for t in tasks if t["callback_state"] == "gave_up") == scale.storm_jobs:
            break
        assert time.monotonic() < deadline, "the provider never gave up its callbacks"
        time.sleep(0.3)
    stack.start_receiver()

    storm = _deliveries(stack, job_ids)
    rng.shuffle(storm)
    seen_completed: set[str] = set()
    late_processing = 0
    for job_id, _, body in storm:
        if body["status"] == "completed":
            seen_completed.add(job_id)
        elif job_id in seen_completed:
            late_processing += 1
    storm_started = time.monotonic()
    with httpx.Client(timeout=60) as client, ThreadPoolExecutor(_THREADS) as pool:
        answers = list(
            pool.map(lambda d: client.post(d[1], json=d[2]).status_code, storm, chunksize=8)
        )
    storm_seconds = time.monotonic() - storm_started
    print(
        f"[chaos] duplicate storm: {len(storm)} deliveries ({late_processing} 'processing' "
        f"after 'completed') posted by {_THREADS} threads in {storm_seconds:.1f}s, "
        f"answers {dict(Counter(answers))}"
    )
    assert set(answers) == {200}
    assert late_processing > 0

    wait_settled(stack.env, scale.storm_jobs, timeout=300)
    audit("duplicate storm", stack.env, stack.simulator_url, expect_stored=scale.storm_jobs)
    db = open_database(stack.env["RECEIVER_DATABASE_URL"])
    try:
        outcomes = run_sql(
            db,
            "SELECT provider_status, outcome, COUNT(*) AS n FROM deliveries "
            "GROUP BY provider_status, outcome",
        )
        completed_in = run_sql(
            db,
            "SELECT job_id, COUNT(*) AS n FROM deliveries WHERE outcome = 'accepted' "
            "AND provider_status = 'completed' GROUP BY job_id",
        )
    finally:
        db.close()
    print(
        "[chaos] duplicate storm: deliveries by status and outcome "
        + ", ".join(f"{r['provider_status']}/{r['outcome']}={r['n']}" for r in outcomes)
    )
    assert sorted(r["n"] for r in completed_in) == [1] * scale.storm_jobs
    assert sum(r["n"] for r in outcomes) == len(storm)
    print(f"[chaos] duplicate storm: wall time {time.monotonic() - started:.1f}s")
