"""The callbacks the ``ack`` scenario sends: real jobs, real tokens, one in four a retry.

Jobs are written with the package's own named queries (``insert_job`` then
``mark_job_submitted``, as ``receiver submit`` does once the provider took the task), so the
receiver finds each one pending with its task id, and a ``completed`` callback is a real
state change: the delivery, the job's compare-and-set, the archive task and the event, in
one transaction. Each callback URL carries a token minted by :class:`CallbackSigner` for its
job, and each body is a task object shaped like EvoLink's.

In every block of four callbacks one, at a random place, is an exact copy of an earlier one:
a provider retry, which the receiver must answer 2xx and record as a duplicate. EvoLink
retries about 1, 2 and 4 s after a failure, so a copy repeats a first delivery sent roughly
1 to 4 s before at 1,000 callbacks/s (750 first deliveries a second).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from receiver import clock
from receiver.config import Secret
from receiver.lifecycle import JobStatus
from receiver.providers.evolink_protocol import DEFAULT_TEXT_MODEL
from receiver.store.database import open_database
from receiver.store.jobs import Jobs
from receiver.store.migrate import migrate
from receiver.tokens import CallbackClaims, CallbackSigner

__all__ = ["Callback", "prepare"]

#: A retry repeats a first delivery between this many first deliveries ago (1 to 4 s at
#: 1,000/s), or any earlier one while there are not that many yet.
RETRY_AFTER = (750, 3000)
_TOKEN_MAX_AGE = 72 * 3600.0


@dataclass(frozen=True, kw_only=True)
class Callback:
    job_id: str
    path: str
    body: str


def prepare(
    db_path: Path, secret_key: str, sizes: Sequence[int], rng: random.Random
) -> list[list[Callback]]:
    """For each stage size, that many callbacks; the jobs they name exist in ``db_path``."""
    picks = [_picks(size, rng) for size in sizes]
    jobs = _create_jobs(db_path, sum(max(stage, default=-1) + 1 for stage in picks))
    signer = CallbackSigner([Secret(secret_key)], max_age=_TOKEN_MAX_AGE)
    firsts = iter(_callback(signer, job_id, task_id) for job_id, task_id in jobs)
    stages = []
    for stage in picks:
        fresh = [next(firsts) for _ in range(max(stage, default=-1) + 1)]
        stages.append([fresh[pick] for pick in stage])
    return stages


def _picks(count: int, rng: random.Random) -> list[int]:
    """Which of the stage's new jobs each request is for; repeats are the retries."""
    picks: list[int] = []
    fresh = 0
    for block in range(0, count, 4):
        retry_slot = rng.randrange(4)
        for slot in range(min(4, count - block)):
            if slot == retry_slot and fresh:
                earliest = max(0, fresh - RETRY_AFTER[1])
                picks.append(rng.randrange(earliest, max(earliest + 1, fresh - RETRY_AFTER[0])))
            else:
                picks.append(fresh)
                fresh += 1
    return picks


def _create_jobs(db_path: Path, count: int) -> list[tuple[str, str]]:
    """``count`` pending jobs with their provider task ids, in one transaction."""
    db = open_database(f"sqlite:///{db_path}")
    try:
        migrate(db)
        now = clock.now()
        # Not due for the watchdog's provider check until long after the benchmark.
        check_after = now + timedelta(hours=1)
        params = {"duration": 5, "aspect_ratio": "16:9", "quality": "720p"}
        # Shaped like EvoLink's ids; numbered, since (provider, task_id) is unique.
        stamp = int(time.time())
        jobs = []
        with db.transaction() as conn:
            for number in range(count):
                job_id = clock.new_id("job")
                task_id = f"task-unified-{stamp}-{number:08x}"
                Jobs(conn).insert(
                    job_id,
                    provider="evolink",
                    model=DEFAULT_TEXT_MODEL,
                    prompt="a red fox running through snow",
                    params=params,
                    status=JobStatus.SUBMITTING,
                    now=now,
                )
                Jobs(conn).mark_submitted(
                    job_id,
                    task_id=task_id,
                    provider_status="pending",
                    estimated_seconds=120,
                    credits_reserved=12.5,
                    check_after=check_after,
                    now=now,
                )
                jobs.append((job_id, task_id))
    finally:
        db.close()
    return jobs


def _callback(signer: CallbackSigner, job_id: str, task_id: str) -> Callback:
    token = signer.sign(CallbackClaims(provider="evolink", job_id=job_id))
    task = {
        "created": int(time.time()) - 120,
        "id": task_id,
        "model": DEFAULT_TEXT_MODEL,
        "object": "video.generation.task",
        "progress": 100,
        "status": "completed",
        "task_info": {"can_cancel": False, "estimated_time": 120, "video_duration": 5},
        "type": "video",
        "usage": {
            "billing_rule": "per_second",
            "credits_reserved": 12.5,
            "user_group": "default",
        },
        "results": [f"https://cdn.example.com/videos/{task_id}.mp4"],
    }
    return Callback(job_id=job_id, path=f"/callbacks/evolink/{token}", body=json.dumps(task))
