"""Child processes of the benchmark: started in their own session, always stopped.

Servers and the load generator each run in a new session (process group), so stopping one
with ``killpg`` also stops anything it started, and a benchmark interrupted half-way leaves
nothing listening. On a machine with two or more cores the driver pins the server and the
load generator to different cores, so neither steals the other's CPU and the figures say
what one core of server can do.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

__all__ = [
    "ProcessFailed",
    "clean_env",
    "core_split",
    "spawned",
    "stop",
    "tail",
    "wait",
    "wait_for_port",
]

_ROOT = Path(__file__).resolve().parent.parent


class ProcessFailed(Exception):
    """A child process exited early, did not come up, or failed."""


def clean_env() -> dict[str, str]:
    """The caller's environment without any receiver, provider or S3 setting in it."""
    prefixes = ("RECEIVER_", "EVOLINK_", "AWS_")
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


def core_split() -> tuple[set[int] | None, set[int] | None]:
    """CPU sets for (server, load generator): two distinct cores when there are two."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if len(cores) < 2:
        return None, None
    return {cores[0]}, {cores[1]}


@contextmanager
def spawned(
    module: str,
    args: Sequence[str],
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    cpus: set[int] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m module args`` in its own session, output to ``log``; stopped on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, "-m", module, *args],
            cwd=_ROOT,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        if cpus is not None:
            # Set before the interpreter starts any thread; threads inherit the mask.
            os.sched_setaffinity(process.pid, cpus)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes], *, grace: float = 15.0) -> None:
    """SIGTERM the process group (graceful for uvicorn), SIGKILL it if that is not enough."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:  # it ended between poll() and killpg()
        process.wait()


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, *, timeout: float = 30.0
) -> None:
    """Return once ``port`` accepts connections (uvicorn binds only after start-up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProcessFailed(f"{_name(process)} exited early:\n{tail(log)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise ProcessFailed(f"{_name(process)} did not listen on port {port}:\n{tail(log)}")


def wait(process: subprocess.Popen[bytes], log: Path, *, timeout: float) -> None:
    """Wait for a child that must finish on its own, and succeed."""
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        raise ProcessFailed(f"{_name(process)} ran over {timeout:.0f} s:\n{tail(log)}") from None
    if code != 0:
        raise ProcessFailed(f"{_name(process)} failed with status {code}:\n{tail(log)}")


def _name(process: subprocess.Popen[bytes]) -> str:
    args = process.args
    return " ".join(str(arg) for arg in args) if isinstance(args, list) else str(args)


def tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"
