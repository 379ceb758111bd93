"""End-to-end fixtures: the real CLI in subprocesses, against SeaweedFS and the simulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from receiver.devtools.seaweed import SeaweedFS, free_ports
from tests.conftest import make_env, s3_env

ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"


@dataclass
class Stack:
    """A running simulator + ``receiver serve``, and the environment to talk to them."""

    env: dict[str, str]
    receiver_url: str
    simulator_url: str
    tmp_path: Path
    receiver: subprocess.Popen[bytes] | None = None

    def start_receiver(self, *args: str, **overrides: str) -> None:
        """Start ``receiver serve`` (again), optionally with flags and changed settings."""
        self.env.update(overrides)
        port = self.receiver_url.rsplit(":", 1)[1]
        log = self.tmp_path / "receiver.log"
        self.receiver = spawn(["serve", "--port", port, *args], self.env, log)
        wait_up(f"{self.receiver_url}/healthz", self.receiver, log)

    def stop_receiver(self) -> None:
        if self.receiver is not None:
            stop_process(self.receiver)
            self.receiver = None

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "receiver", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"receiver {' '.join(args)} failed:\n{result.stderr}")
        return result

    def show(self, job_id: str) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.cli("show", job_id, "--json").stdout)
        return document

    def wait_for(self, job_id: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.show(job_id)
            if job["status"] in statuses:
                return job
            time.sleep(0.3)
        raise AssertionError(f"job {job_id} never reached {statuses}: {self.show(job_id)}")

    def simulator(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(method, f"{self.simulator_url}{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "receiver", *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited early:\n{log.read_text()}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up:\n{log.read_text()}")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def stack_overrides() -> dict[str, str]:
    """Extra environment for the stack; a test module overrides this fixture to change it."""
    return {}


@pytest.fixture
def stack(
    tmp_path: Path, seaweedfs: SeaweedFS, database_url: str, stack_overrides: dict[str, str]
) -> Iterator[Stack]:
    receiver_port, simulator_port = free_ports(2)
    env = {
        **os.environ,
        **make_env(tmp_path, **s3_env(seaweedfs)),
        "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{receiver_port}",
        "EVOLINK_BASE_URL": f"http://127.0.0.1:{simulator_port}",
        "EVOLINK_API_KEY": "sk-evo-e2e",
        "RECEIVER_PART_SIZE": "5MiB",
        "RECEIVER_DATABASE_URL": database_url,
        "RECEIVER_ADMIN_TOKEN": ADMIN_TOKEN,
        "RECEIVER_API_URL": f"http://127.0.0.1:{receiver_port}",
        **stack_overrides,
    }
    sim_log = tmp_path / "simulator.log"
    simulator = spawn(
        [
            "simulator",
            "--port",
            str(simulator_port),
            "--api-key",
            "sk-evo-e2e",
            "--allow-http-callbacks",
            "--delay",
            "0.5",
        ],
        env,
        sim_log,
    )
    stack = Stack(
        env, f"http://127.0.0.1:{receiver_port}", f"http://127.0.0.1:{simulator_port}", tmp_path
    )
    try:
        wait_up(f"http://127.0.0.1:{simulator_port}/_simulator/config", simulator, sim_log)
        stack.start_receiver()
        yield stack
    finally:
        stack.stop_receiver()
        stop_process(simulator)
