"""The subject of the ``archive`` scenario: a real ``receiver worker`` process, as a black box.

The worker is started against an empty queue and waited for until it says it is running
(``worker.started`` in its JSON log). Then one transaction writes the jobs, ``completed``
with their archive tasks queued, exactly the rows a completed callback leaves behind (the
package's own named queries ``insert_job`` and ``enqueue_archive``), and the driver watches
the ``archive_tasks`` table until every task has ended.

The clock runs from the first task seen claimed to the last one ended (the table is read
every 20 ms). What comes before (Python's start-up, the idle worker's next look at the queue,
at most a second later) is a fixed latency, not throughput, and a long-running worker pays it
once; it is reported apart. CPU is read from ``/proc`` from just before the commit, so the
idle wait is counted (it costs next to nothing) and no early work is missed; peak memory is
the kernel's ``VmHWM``, the high-water mark over the worker's whole life, start-up included.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench import archive_proc, processes
from bench.archive_proc import CpuSnapshot, CpuUse
from bench.options import progress
from receiver import clock
from receiver.lifecycle import JobStatus
from receiver.providers.evolink_protocol import DEFAULT_TEXT_MODEL
from receiver.store.archive_tasks import ArchiveTasks
from receiver.store.database import open_database
from receiver.store.jobs import Jobs
from receiver.store.migrate import migrate

__all__ = ["ArchiveRun", "Task", "enqueue", "run_worker"]

_POLL_EVERY = 0.02
_READY_TIMEOUT = 60.0
_ENDED = ("done", "failed", "expired")


@dataclass(frozen=True, kw_only=True)
class Task:
    job_id: str
    url: str


@dataclass(frozen=True, kw_only=True)
class ArchiveRun:
    #: From the first task seen claimed to the last one seen ended.
    wall: float
    #: CPU from just before the tasks were committed to the last one ended.
    cpu: CpuUse
    #: From the tasks' commit to the first claim seen: the idle worker's polling latency.
    claim_latency: float
    #: The worker's resident memory high-water mark, in bytes.
    peak_rss: int
    #: Its resident memory once started, before the first task: what imports and set-up take.
    idle_rss: int
    #: Tasks by final state, and how many attempts they took in all.
    states: Mapping[str, int]
    attempts: int
    #: Why tasks failed or were retried, as the worker recorded it (distinct messages).
    errors: Sequence[str]


def enqueue(db_path: Path, urls: Sequence[str]) -> list[Task]:
    """One completed job per URL, each with its archive task queued, in one transaction."""
    db = open_database(f"sqlite:///{db_path}")
    try:
        now = clock.now()
        tasks = []
        with db.transaction() as conn:
            for number, url in enumerate(urls):
                job_id = clock.new_id("job")
                Jobs(conn).insert(
                    job_id,
                    provider="evolink",
                    model=DEFAULT_TEXT_MODEL,
                    prompt=f"benchmark video {number}",
                    params={"duration": 5},
                    status=JobStatus.COMPLETED,
                    now=now,
                )
                ArchiveTasks(conn).enqueue(
                    job_id,
                    source_url=url,
                    confirm_first=False,
                    deadline_at=now + timedelta(hours=24),
                    now=clock.to_db(now),
                )
                tasks.append(Task(job_id=job_id, url=url))
    finally:
        db.close()
    return tasks


def run_worker(
    *,
    db_path: Path,
    urls: Sequence[str],
    env: Mapping[str, str],
    log: Path,
    watch: Mapping[str, int],
    timeout: float,
    command: Sequence[str] = ("worker",),
) -> tuple[list[Task], ArchiveRun]:
    """Start ``receiver worker`` (or ``command``: ``serve`` with its worker), give it one job
    per URL, wait until all ended, stop it.

    ``watch`` names other processes (the store, the source) whose CPU is read over the same
    window; the archiving process itself is ``"subject"``.
    """
    _migrate(db_path)
    with processes.spawned("receiver", list(command), log=log, env=env) as worker:
        _wait_until_started(worker, log)
        progress(f"archive: receiver worker {worker.pid} running; queueing the videos")
        pids = {**watch, "subject": worker.pid}
        # CPU from before the commit: the idle worker's wait costs nothing, and no early
        # work of the first claim is missed between two looks at the table.
        idle_rss = archive_proc.rss(worker.pid) or 0
        start = CpuSnapshot.take(pids)
        tasks = enqueue(db_path, urls)
        enqueued = time.monotonic()
        with closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)) as conn:
            first = _poll(conn, lambda counts: counts.get("queued", 0) < len(tasks), worker, log)
            _poll(
                conn,
                lambda counts: sum(counts.get(state, 0) for state in _ENDED) == len(tasks),
                worker,
                log,
                deadline=time.monotonic() + timeout,
            )
            end = CpuSnapshot.take(pids)
            peak = archive_proc.peak_rss(worker.pid) or 0
            states, attempts, errors = _outcome(conn)
    return tasks, ArchiveRun(
        wall=end.at - first,
        cpu=start.until(end),
        claim_latency=first - enqueued,
        peak_rss=peak,
        idle_rss=idle_rss,
        states=states,
        attempts=attempts,
        errors=errors,
    )


def _migrate(db_path: Path) -> None:
    """Create the schema before the worker starts, as ``receiver migrate`` would."""
    db = open_database(f"sqlite:///{db_path}")
    try:
        migrate(db)
    finally:
        db.close()


def _wait_until_started(worker: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise processes.ProcessFailed(f"receiver worker exited early:\n{processes.tail(log)}")
        if b'"worker.started"' in log.read_bytes():
            return
        time.sleep(_POLL_EVERY)
    raise processes.ProcessFailed(
        f"receiver worker did not start within {_READY_TIMEOUT:.0f} s:\n{processes.tail(log)}"
    )


def _poll(
    conn: sqlite3.Connection,
    done: Callable[[dict[str, int]], bool],
    worker: subprocess.Popen[bytes],
    log: Path,
    *,
    deadline: float | None = None,
) -> float:
    """Read the tasks' states every few milliseconds until ``done``; the time it first was."""
    while True:
        counts = dict(conn.execute("SELECT state, COUNT(*) FROM archive_tasks GROUP BY state"))
        now = time.monotonic()
        if done(counts):
            return now
        if worker.poll() is not None:
            raise processes.ProcessFailed(
                f"receiver worker exited during the run:\n{processes.tail(log)}"
            )
        if deadline is not None and now > deadline:
            raise processes.ProcessFailed(
                f"the archiver had not ended every task in time (tasks by state: {counts})"
            )
        time.sleep(_POLL_EVERY)


def _outcome(conn: sqlite3.Connection) -> tuple[dict[str, int], int, list[str]]:
    states = dict(conn.execute("SELECT state, COUNT(*) FROM archive_tasks GROUP BY state"))
    (attempts,) = conn.execute("SELECT COALESCE(SUM(attempts), 0) FROM archive_tasks").fetchone()
    errors = [
        str(error)
        for (error,) in conn.execute(
            "SELECT DISTINCT last_error FROM archive_tasks WHERE last_error IS NOT NULL"
        )
    ]
    return states, int(attempts), errors
