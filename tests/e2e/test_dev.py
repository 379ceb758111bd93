"""`receiver dev` (what `make run` runs): its env file, one instance per directory, and a port
that must be free, run as a user runs it, in directories of their own."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from receiver.devtools.seaweed import free_ports


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("RECEIVER_", "AWS_"))}


def _start(cwd: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    cwd.mkdir(exist_ok=True)
    log = cwd / "dev.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "receiver", "dev", "--no-demo", "--port", str(port)],
            cwd=cwd,
            env=_clean_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process, log


def _wait_running(process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if "press Ctrl-C" in log.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"receiver dev exited early:\n{log.read_text()}")
        time.sleep(0.2)
    raise AssertionError(f"receiver dev never came up:\n{log.read_text()}")


def _run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "receiver", *args],
        cwd=cwd,
        env=env if env is not None else _clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _sourced(env_file: Path) -> dict[str, str]:
    """What `source var/dev/env` sets."""
    variables = {}
    for line in env_file.read_text().splitlines():
        words = shlex.split(line)
        assert words[0] == "export", line
        name, _, value = words[1].partition("=")
        variables[name] = value
    return variables


def test_dev_env_file_lock_and_port(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    first, log = _start(tmp_path / "a", port)
    try:
        _wait_running(first, log)
        variables = _sourced(tmp_path / "a" / "var" / "dev" / "env")
        # Before: RECEIVER_API_URL was missing, so `--wait` talked to port 8000.
        assert variables["RECEIVER_API_URL"] == f"http://127.0.0.1:{port}"

        # A second one in the same directory: who is running, not a SeaweedFS stack trace.
        again = _run(tmp_path / "a", "dev", "--no-demo", "--port", str(free_ports(1)[0]))
        assert again.returncode == 1
        assert again.stderr.strip() == (
            f"receiver: receiver dev is already running in {tmp_path / 'a'} (pid {first.pid}): "
            "stop it first (Ctrl-C in its terminal), or start another one from another "
            "directory with another --port"
        )

        # Another directory, the same port: refused before anything starts, where it used to
        # take the other instance's /healthz for its own.
        (tmp_path / "b").mkdir()
        elsewhere = _run(tmp_path / "b", "dev", "--no-demo", "--port", str(port))
        assert elsewhere.returncode == 1
        assert elsewhere.stderr.strip().startswith(f"receiver: cannot listen on 127.0.0.1:{port}: ")
        assert not (tmp_path / "b" / "var" / "dev" / "seaweedfs").exists()

        # With the env file sourced, `submit --wait` follows this receiver, not port 8000.
        submitted = _run(
            tmp_path / "a",
            "submit",
            "a heron in the rain",
            "--duration",
            "5",
            "--wait",
            env={**_clean_env(), **variables},
        )
        assert submitted.returncode == 0, submitted.stderr
        assert "s3://" in submitted.stdout
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGTERM)
        status = first.wait(60)
    assert status == 0, log.read_text()
