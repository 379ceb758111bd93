"""Fixtures of the fault suite: the e2e stack (simulator + ``receiver serve``), worker
processes to kill, and the scale the scenarios run at (``CHAOS_SCALE``)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from receiver import jobs
from receiver.config import Settings
from receiver.context import Context
from receiver.providers.base import JobRequest
from receiver.store.database import Database
from tests.chaos._scale import Scale, current_scale
from tests.conftest import run_sql
from tests.e2e.conftest import Stack, spawn, stack, stack_overrides, stop_process, wait_up

__all__ = [
    "KillLedger",
    "Workers",
    "configure",
    "owner_pid",
    "running_archives",
    "serve_without_worker",
    "stack",
    "stack_overrides",
    "submit_many",
]


@pytest.fixture
def scale() -> Scale:
    return current_scale()


def configure(stack: Stack, **changes: Any) -> None:
    """Change the simulator's config; tasks created from now on run by it."""
    stack.simulator("PATCH", "/_simulator/config", json=changes)


def submit_many(stack: Stack, count: int, prompt: str = "clip") -> list[str]:
    """Submit through the Python API, as a team's own script would."""
    with Context(Settings.from_env(stack.env)) as ctx:
        return [jobs.submit_job(ctx, JobRequest(prompt=f"{prompt} {n}")).id for n in range(count)]


def serve_without_worker(stack: Stack) -> None:
    """Restart the stack's receiver as intake only: the archives are left to ``Workers``."""
    stack.stop_receiver()
    port = stack.receiver_url.rsplit(":", 1)[1]
    log = stack.tmp_path / "receiver.log"
    stack.receiver = spawn(["serve", "--port", port, "--no-worker"], stack.env, log)
    wait_up(f"{stack.receiver_url}/healthz", stack.receiver, log)


class Workers:
    """``receiver worker`` processes that can be SIGKILLed and started again."""

    def __init__(self, stack: Stack, count: int) -> None:
        self._stack = stack
        self._started = 0
        self.processes = [self._spawn() for _ in range(count)]

    def _spawn(self) -> subprocess.Popen[bytes]:
        self._started += 1
        log = self._stack.tmp_path / f"worker-{self._started}.log"
        return spawn(["worker"], self._stack.env, log)

    def kill(self, index: int) -> None:
        """SIGKILL worker ``index`` (no goodbye, no journal flush) and start a new one."""
        process = self.processes[index]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        self.processes[index] = self._spawn()

    def index_of(self, pid: int) -> int | None:
        for index, process in enumerate(self.processes):
            if process.pid == pid:
                return index
        return None

    def stop(self) -> None:
        for process in self.processes:
            stop_process(process)


#: Long enough for the simulator to count a body it finished just before a kill, far
#: shorter than the lease a survivor must wait out before taking the task over.
_SETTLE_AFTER_KILL = 0.3


def running_archives(db: Database) -> list[dict[str, Any]]:
    return run_sql(
        db,
        "SELECT t.job_id, j.task_id, t.lease_owner, t.upload_id FROM archive_tasks t "
        "JOIN jobs j ON j.id = t.job_id WHERE t.state = 'running'",
    )


def owner_pid(row: dict[str, Any]) -> int:
    # Worker ids are host:pid:suffix (receiver/archive/worker.py).
    return int(str(row["lease_owner"]).split(":")[1])


class KillLedger:
    """Which archives each SIGKILL caught after the source had sent them their last byte.

    Those jobs must be downloaded once more (see tests/chaos/_audit.py); ``forced`` is what
    the audit is told, measured right after each kill, never guessed.
    """

    def __init__(self, stack: Stack, db: Database) -> None:
        self._stack = stack
        self._db = db
        self.forced: Counter[str] = Counter()

    def kill(self, pid: int, kill: Callable[[], None]) -> str:
        """Run ``kill`` (which SIGKILLs process ``pid``) and describe what it caught."""
        held = [row for row in running_archives(self._db) if owner_pid(row) == pid]
        kill()
        time.sleep(_SETTLE_AFTER_KILL)
        tasks = self._stack.simulator("GET", "/_simulator/stats")["tasks"]
        after_last_byte = 0
        for row in held:
            # Every earlier attempt that got the whole file was counted as forced.
            if tasks[row["task_id"]]["complete_downloads"] > self.forced[row["job_id"]]:
                self.forced[row["job_id"]] += 1
                after_last_byte += 1
        return (
            f"holding {len(held)} archives ({sum(1 for r in held if r['upload_id'])} with an "
            f"open upload, {after_last_byte} already sent their last byte)"
        )
