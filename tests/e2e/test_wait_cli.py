"""``receiver wait``, ``submit --wait``, ``--download`` and ``receiver download``, as a user
runs them (issue 19's regressions, each through the CLI).

- ``--timeout`` is a real timeout: a job that never finishes, or sits in an unknown status,
  ends the wait after the timeout, not at the next event.
- ``submit --wait`` (one job or ``--from`` a file) checks the API and the token before it
  submits: a wrong or missing token, or no API at RECEIVER_API_URL, is exit 2 and nothing
  is submitted or paid for. A 401 names the URL that answered it.
- Ctrl-C during ``--wait`` exits 130 and names the jobs that go on.
- ``--download`` into a directory writes DIR/JOB.mp4, ``DIR/`` is made if missing, a file
  in a missing directory is a clear error (before submitting); no traceback, no
  ``.partial`` left.
- ``wait`` takes several jobs or ``--all-pending``; ``receiver download JOB --to DIR``; the
  elapsed time shows on a terminal.
"""

from __future__ import annotations

import hashlib
import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from receiver.devtools.seaweed import free_ports
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _tasks(stack: Stack) -> int:
    return len(stack.simulator("GET", "/_simulator/stats")["tasks"])


def _submit(stack: Stack, prompt: str) -> str:
    job_id: str = json.loads(stack.cli("submit", prompt, "--duration", "3", "--json").stdout)["id"]
    return job_id


def _delay(stack: Stack, seconds: float) -> None:
    stack.simulator("PATCH", "/_simulator/config", json={"delay": seconds})


def _run(stack: Stack, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "receiver", *args],
        env={**stack.env, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_timeouts_checks_before_paying_and_ctrl_c(stack: Stack, tmp_path: Path) -> None:
    _delay(stack, 600)
    never = _submit(stack, "a snail that never arrives")
    _delay(stack, 0.5)
    unknown = _submit(stack, "a mystery [sim:unknown]")
    stack.wait_for(unknown, "processing", "completed", "pending", timeout=30)

    # --timeout is a real timeout, events or none. The CLI's own start-up (seconds on a
    # loaded machine) is measured alongside, so that only the wait itself is bounded.
    for job_id in (never, unknown):
        started = time.monotonic()
        _run(stack, "show", job_id)
        start_up = time.monotonic() - started
        started = time.monotonic()
        result = _run(stack, "wait", job_id, "--timeout", "3s")
        took = time.monotonic() - started
        assert result.returncode == 1
        assert f"gave up waiting for {job_id} after 3 s" in result.stderr
        assert took - start_up < 8, (took, start_up)

    # Checked before paying: a wrong token, none, no API. Nothing is submitted.
    before = _tasks(stack)
    wrong = _run(stack, "submit", "a kite", "--wait", RECEIVER_ADMIN_TOKEN="w" * 32)
    assert wrong.returncode == 2
    assert f"the receiver at {stack.receiver_url} refused it (401)" in wrong.stderr
    env_without = {k: v for k, v in stack.env.items() if k != "RECEIVER_ADMIN_TOKEN"}
    missing = subprocess.run(
        [sys.executable, "-m", "receiver", "submit", "a kite", "--wait"],
        env=env_without,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 2
    assert "RECEIVER_ADMIN_TOKEN" in missing.stderr
    (nowhere,) = free_ports(1)
    away = {"RECEIVER_API_URL": f"http://127.0.0.1:{nowhere}"}
    unreachable = _run(stack, "submit", "a kite", "--wait", **away)
    assert unreachable.returncode == 2
    assert f"no answer from http://127.0.0.1:{nowhere}" in unreachable.stderr
    rows = tmp_path / "rows.csv"
    rows.write_text("prompt,duration\na kite,3\na boat,3\n")
    batch = _run(stack, "submit", "--from", str(rows), "--wait", **away)
    assert batch.returncode == 2
    assert "RECEIVER_API_URL" in batch.stderr
    assert _tasks(stack) == before

    # A 401 names the URL that answered it.
    refused = _run(stack, "wait", never, RECEIVER_ADMIN_TOKEN="w" * 32)
    assert refused.returncode == 2
    assert stack.receiver_url in refused.stderr

    # Ctrl-C during --wait: exit 130, and the paid job's id is said.
    _delay(stack, 600)
    waiting = subprocess.Popen(
        [*_AT_A_TERMINAL, "submit", "a slow owl", "--wait"],
        env={**stack.env, "PYTHONFAULTHANDLER": "1"},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        job_id = _submitted_line(waiting).split()[1].rstrip(";")
        time.sleep(1.0)
        waiting.send_signal(signal.SIGINT)
        _, err = _after_ctrl_c(waiting)
    finally:
        _end(waiting)
    assert waiting.returncode == 130
    assert job_id in err
    assert f"receiver wait {job_id}" in err
    assert "Traceback" not in err

    # ... and during a batch's --wait: the report names every submitted job.
    batch_wait = subprocess.Popen(
        [*_AT_A_TERMINAL, "submit", "--from", str(rows), "--wait"],
        env={**stack.env, "PYTHONFAULTHANDLER": "1"},
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while _tasks(stack) < before + 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)
        batch_wait.send_signal(signal.SIGINT)
        out, err = _after_ctrl_c(batch_wait)
    finally:
        _end(batch_wait)
    assert batch_wait.returncode == 130, err
    assert out.count("submitted") >= 2, out
    assert "interrupted" in err
    assert "Traceback" not in err


#: ``receiver`` with Ctrl-C as at a terminal. A shell's background job (a CI script run with
#: `&`) starts with SIGINT ignored, every process below it inherits that, and Python then
#: installs no KeyboardInterrupt handler: the signal would be lost, whatever the CLI does.
_AT_A_TERMINAL = [
    sys.executable,
    "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'receiver'; runpy.run_module('receiver', run_name='__main__', alter_sys=True)",
]


def _submitted_line(process: subprocess.Popen[str]) -> str:
    """The "submitted job_… ; waiting" line, past any log line before it."""
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        if line.startswith("submitted job_"):
            return line
        seen.append(line)
    raise AssertionError("no 'submitted' line:\n" + "".join(seen))


def _after_ctrl_c(process: subprocess.Popen[str]) -> tuple[str, str]:
    """What the process printed once it ended after Ctrl-C. If it does not end, it is made to
    dump every thread's stack (PYTHONFAULTHANDLER, on SIGABRT) so the failure says where it
    was stuck."""
    try:
        return process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)
        _, err = process.communicate(timeout=30)
        stacks = err[-6000:]
        raise AssertionError(f"still running 30 s after Ctrl-C; its stacks:\n{stacks}") from None


def _end(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=30)


def test_downloads_several_jobs_and_the_terminal(stack: Stack, tmp_path: Path) -> None:
    _delay(stack, 0.5)
    videos = tmp_path / "videos"
    videos.mkdir()

    # Onto an existing directory: DIR/JOB.mp4, checked, nothing left behind.
    result = _run(stack, "submit", "a kite", "--duration", "3", "--wait", "--download", str(videos))
    assert result.returncode == 0, result.stderr
    (saved,) = videos.iterdir()
    job_id = saved.stem
    assert saved.name == f"{job_id}.mp4"
    assert _sha(saved) == stack.show(job_id)["asset"]["sha256"]
    assert "SHA-256 checked" in result.stderr

    # Into a missing directory: refused before submitting, and without a traceback.
    before = _tasks(stack)
    lost = tmp_path / "missing" / "video.mp4"
    refused = _run(stack, "submit", "a boat", "--wait", "--download", str(lost))
    assert refused.returncode == 2
    assert "no directory" in refused.stderr
    assert _tasks(stack) == before
    assert _run(stack, "wait", job_id, "--download", str(lost)).returncode == 2

    # DIR/ is a directory, made if missing.
    made = _run(stack, "wait", job_id, "--download", f"{tmp_path}/new/")
    assert made.returncode == 0, made.stderr
    assert _sha(tmp_path / "new" / f"{job_id}.mp4") == _sha(saved)

    # receiver download JOB --to DIR
    into = tmp_path / "downloads"
    into.mkdir()
    fetched = _run(stack, "download", job_id, "--to", str(into))
    assert fetched.returncode == 0, fetched.stderr
    assert fetched.stdout.strip() == str(into / f"{job_id}.mp4")
    assert _sha(into / f"{job_id}.mp4") == _sha(saved)
    assert not list(into.glob("*.partial"))

    # Several jobs at once, one JSON line each.
    other = _submit(stack, "a boat")
    both = _run(stack, "wait", job_id, other, "--json", "--timeout", "60s")
    assert both.returncode == 0, both.stderr
    outcomes = [json.loads(line) for line in both.stdout.splitlines()]
    assert {o["job_id"] for o in outcomes} == {job_id, other}
    assert all(o["stored"] for o in outcomes)

    # --all-pending: the jobs whose video may still come, and only those.
    _delay(stack, 600)
    slow = _submit(stack, "a glacier")
    pending = _run(stack, "wait", "--all-pending", "--timeout", "2s")
    assert pending.returncode == 1
    assert f"gave up waiting for {slow} after 2 s" in pending.stderr
    missing = _run(stack, "download", slow, "--to", str(into))
    assert missing.returncode == 1
    assert f"job {slow} has no stored video" in missing.stderr

    # On a terminal, the elapsed time moves while nothing happens.
    screen = _on_a_terminal(stack, "wait", slow, "--timeout", "3s")
    assert "waiting 0:02" in screen, screen
    assert slow in screen


def _on_a_terminal(stack: Stack, *args: str) -> str:
    """What ``receiver ARGS`` writes to stderr when stderr is a terminal."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "receiver", *args],
            env=stack.env,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
        )
        os.close(terminal)
        terminal = -1
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(30)
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    return b"".join(chunks).decode(errors="replace")
