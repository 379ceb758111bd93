"""Promises of the command line, proven by running it as a user would.

- ``receiver migrate`` says what it did ("applied N migration(s)", then "the schema is up to
  date"); logs are JSON when stderr is not a terminal and not when it is
  (``RECEIVER_LOG_FORMAT=auto``); ``RECEIVER_INSECURE=1`` says so in the log; ``receiver
  wait`` reaches ``http://127.0.0.1:8000`` when ``RECEIVER_API_URL`` is unset.
- Against ``receiver serve`` and the simulator: ``RECEIVER_MAX_CREDITS_PER_DAY=0`` refuses
  every job; ``jobs --status`` filters; ``replay --failed`` narrows with ``--job`` and
  ``--since`` and never offers deliveries whose token was not ours; ``reconcile
  --older-than`` asks only about older jobs; a batch submits ``--concurrency`` jobs at a time
  (4 by default), as the provider sees it; ``wait --timeout`` gives up.
"""

from __future__ import annotations

import json
import os
import pty
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from receiver.devtools.seaweed import free_ports
from tests.conftest import make_env
from tests.e2e.conftest import ADMIN_TOKEN, Stack
from tests.e2e.promise_tools import (
    AUTH,
    api_job,
    await_job,
    bound_callback_url,
    cli,
    peak,
    relay,
    submit,
    wait_until,
)
from tests.servers import run_server

pytestmark = pytest.mark.e2e


def _stderr_on_a_terminal(env: dict[str, str], *args: str) -> str:
    """What ``receiver ARGS`` writes to stderr when stderr is a terminal."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "receiver", *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=terminal,
            timeout=60,
            check=False,
        )
        assert process.returncode == 0
        os.close(terminal)
        terminal = -1
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal's other end is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    return b"".join(chunks).decode(errors="replace")


def test_migrate_log_format_insecure_warning_and_the_default_api_url(tmp_path: Path) -> None:
    env = {**os.environ, **make_env(tmp_path)}
    env.pop("RECEIVER_LOG_FORMAT")  # the default: auto
    env.pop("RECEIVER_API_URL", None)

    first = cli(env, "migrate")
    assert first.returncode == 0, first.stderr
    applied = first.stdout.strip()
    assert applied.startswith("applied ")
    assert applied.endswith(" migration(s)")
    assert int(applied.split()[1]) > 0
    again = cli(env, "migrate")
    assert again.stdout.strip() == "the schema is up to date"

    # stderr is a pipe here: every log line is a JSON object, and insecure mode is announced.
    logs = [json.loads(line) for line in again.stderr.splitlines()]
    assert any(log["event"] == "insecure_mode" and log["level"] == "warning" for log in logs)
    # On a terminal, the same warning in the console format, not JSON.
    console = _stderr_on_a_terminal(env, "migrate")
    lines = [line for line in console.splitlines() if "insecure_mode" in line]
    assert len(lines) == 1, console
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])
    # ... and only insecure mode.
    secure = {
        **env,
        "RECEIVER_INSECURE": "0",
        "RECEIVER_PUBLIC_URL": "https://receiver.example",
        "EVOLINK_BASE_URL": "https://evolink.example",
    }
    quiet = cli(secure, "migrate")
    assert quiet.returncode == 0, quiet.stderr
    assert "insecure_mode" not in quiet.stderr

    # Without RECEIVER_API_URL, `receiver wait` asks http://127.0.0.1:8000.
    asked: list[tuple[str, str]] = []

    async def job(request: Request) -> Response:
        asked.append((request.url.path, request.headers.get("authorization", "")))
        return JSONResponse({"error": "not_found", "message": "no such job"}, 404)

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", 8000))
        except OSError:
            pytest.fail("port 8000 is taken: this test needs it to stand in for the receiver")
    app = Starlette(routes=[Route("/v1/jobs/{job_id}", job)])
    with run_server(app, port=8000):
        result = cli({**env, "RECEIVER_ADMIN_TOKEN": ADMIN_TOKEN}, "wait", "job_nowhere")
    assert result.returncode == 1
    assert "no job 'job_nowhere'" in result.stderr
    assert asked == [("/v1/jobs/job_nowhere", f"Bearer {ADMIN_TOKEN}")]


def _lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _post_job(stack: Stack, prompt: str) -> str:
    """Submit over the API (no process to start) where the CLI is not what is tested."""
    answer = httpx.post(
        f"{stack.receiver_url}/v1/jobs", json={"prompt": prompt}, headers=AUTH, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _post(url: str, body: Mapping[str, object]) -> httpx.Response:
    return httpx.post(url, json=body, timeout=10)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_budget_listing_replay_reconcile_batch_and_wait_commands(
    stack: Stack, tmp_path: Path
) -> None:
    stack.simulator("PATCH", "/_simulator/config", json={"retry_delays": [0.05, 0.05, 0.05]})

    # RECEIVER_MAX_CREDITS_PER_DAY=0 refuses every job: nothing is recorded or sent.
    zero = cli({**stack.env, "RECEIVER_MAX_CREDITS_PER_DAY": "0"}, "submit", "A fox")
    assert zero.returncode == 1
    assert "RECEIVER_MAX_CREDITS_PER_DAY" in zero.stderr
    assert "Traceback" not in zero.stderr
    assert stack.cli("jobs", "--json").stdout == ""
    assert stack.simulator("GET", "/_simulator/stats")["tasks"] == {}

    # A job whose callbacks never arrive (its callback URL leads nowhere), started now so
    # that it is old by the time `reconcile --older-than` runs.
    (nowhere,) = free_ports(1)
    lost_env = {**stack.env, "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{nowhere}"}
    old = submit(stack, "An old lost callback", env=lost_env)
    old_at = time.monotonic()

    stored = _post_job(stack, "A lighthouse in fog")
    failed = _post_job(stack, "A kite in a storm [sim:fail]")
    await_job(stack, stored, "stored")
    await_job(stack, failed, "failed")

    # Deliveries rejected while naming a job (a valid token, another task) are what
    # `replay --failed` re-runs; one whose token was never ours is not.
    mismatch = {"id": "task-unified-0-notthisone", "status": "completed"}
    first = _post(bound_callback_url(stack, stored), mismatch)
    assert first.status_code == 409
    first_at = time.monotonic()

    # `jobs --status` lists only the jobs in that status.
    assert [j["id"] for j in _lines(stack.cli("jobs", "--status", "failed", "--json"))] == [failed]
    assert [j["id"] for j in _lines(stack.cli("jobs", "--status", "stored", "--json"))] == [stored]

    def would_replay(*args: str) -> list[str]:
        return stack.cli("replay", "--failed", "--dry-run", *args).stdout.split()

    # `--since 5s` must tell a delivery 8 s old from one just made.
    wait_until(lambda: time.monotonic() - first_at > 8, "the first delivery to be 8 s old", 20)
    second = _post(bound_callback_url(stack, failed), mismatch)
    assert second.status_code == 409
    first_id, second_id = first.json()["delivery_id"], second.json()["delivery_id"]
    assert would_replay("--since", "5s") == [second_id]
    assert would_replay("--since", "5s", "--job", stored) == []
    assert would_replay("--job", stored) == [first_id]
    junk = _post(f"{stack.receiver_url}/callbacks/evolink/not-our-token", mismatch)
    assert junk.status_code == 403
    junk_id = junk.json()["delivery_id"]
    assert would_replay() == [first_id, second_id]
    not_ours = stack.cli("replay", junk_id, check=False)
    assert not_ours.returncode == 1
    assert f"still failing  {junk_id}" in not_ours.stdout
    assert "names no job" in not_ours.stdout

    # `reconcile --older-than` asks the provider about the older lost job only.
    wait_until(lambda: time.monotonic() - old_at > 16, "the first lost job to be 16 s old", 30)
    new = submit(stack, "A new lost callback", env=lost_env)
    first_round = stack.cli("reconcile", "--older-than", "8s").stdout
    assert "checked 1, recovered 1, still running 0, errors 0" in first_round
    assert api_job(stack, new)["status"] == "pending"
    await_job(stack, old, "stored")
    wait_until(
        lambda: "recovered 1" in stack.cli("reconcile").stdout, "the newer job to be recovered"
    )
    await_job(stack, new, "stored")

    # A batch submits --concurrency jobs at a time (4 by default), as the provider sees it.
    with relay(stack.simulator_url) as provider:
        provider.delays[r"^/v1/videos/generations$"] = 0.5
        via = {**stack.env, "EVOLINK_BASE_URL": provider.url}
        for args, most in ((("--concurrency", "2"), 2), ((), 4)):
            rows = tmp_path / f"rows-{most}.csv"
            prompts = "".join(f"batch {most} row {n} [sim:fail]\n" for n in range(8))
            rows.write_text("prompt\n" + prompts)
            before = len(provider.requests("POST", r"^/v1/videos/generations$"))
            batch = cli(via, "submit", "--from", str(rows), "--json", *args)
            assert batch.returncode == 0, batch.stderr
            creates = provider.requests("POST", r"^/v1/videos/generations$")[before:]
            assert len(creates) == 8
            assert peak(creates) == most

    # `wait --timeout` gives up on a job that is still being generated.
    stack.simulator("PATCH", "/_simulator/config", json={"delay": 120})
    slow = _post_job(stack, "A glacier, slowly")
    started = time.monotonic()
    try:
        waited = cli(stack.env, "wait", slow, "--timeout", "2s", timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("`receiver wait --timeout 2s` was still waiting after 30 s")
    assert waited.returncode == 1, waited.stderr
    assert time.monotonic() - started < 20
    assert slow in waited.stderr
