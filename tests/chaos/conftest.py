"""Fixtures of the fault suite: the e2e stack (simulator + ``receiver serve``), worker
processes to kill, and the scale the scenarios run at (``CHAOS_SCALE``)."""

from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

import pytest

from receiver import jobs
from receiver.config import Settings
from receiver.context import Context
from receiver.providers.base import JobRequest
from tests.chaos._scale import Scale, current_scale
from tests.e2e.conftest import Stack, spawn, stack, stack_overrides, stop_process, wait_up

__all__ = [
    "Workers",
    "configure",
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
    ctx = Context(Settings.from_env(stack.env))
    try:
        return [jobs.submit_job(ctx, JobRequest(prompt=f"{prompt} {n}")).id for n in range(count)]
    finally:
        ctx.close()


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
