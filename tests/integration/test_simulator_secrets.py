"""The simulator as ``receiver dev`` starts it: its keys in its environment, enforced, and
nowhere on its command line (``/proc/PID/cmdline``, what ``ps`` shows every user)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from receiver.devtools import dev
from receiver.devtools.seaweed import free_ports

pytestmark = pytest.mark.integration

API_KEY = "sk-evo-dev-" + "a1" * 12
KLING_SECRET = "kling-dev-secret-" + "b2" * 12


def test_the_dev_simulator_enforces_keys_it_was_given_in_its_environment(
    tmp_path: Path,
) -> None:
    (port,) = free_ports(1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECEIVER_SIMULATOR_")}
    args, child_env = dev._simulator_command(
        port, {"api_key": API_KEY, "kling_secret_key": KLING_SECRET}, env
    )
    log_path = tmp_path / "simulator.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "receiver", *args],
            env=child_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                config = httpx.get(f"{base}/_simulator/config", timeout=1).json()
                break
            except httpx.HTTPError:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, "the simulator did not come up"
                time.sleep(0.1)

        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
        assert API_KEY.encode() not in command_line
        assert KLING_SECRET.encode() not in command_line

        # Both keys are set (masked in the config view) and enforced.
        assert config["api_key"] == "**********"
        assert config["kling_secret_key"] == "**********"
        body = {"model": "veo3", "prompt": "a fox"}
        wrong = httpx.post(
            f"{base}/v1/videos/generations",
            json=body,
            headers={"Authorization": "Bearer sk-evo-wrong"},
        )
        assert wrong.status_code == 401
        right = httpx.get(
            f"{base}/v1/tasks/task-unknown", headers={"Authorization": f"Bearer {API_KEY}"}
        )
        assert right.status_code != 401
    finally:
        process.terminate()
        process.wait(10)
