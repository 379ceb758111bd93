"""Promises about running receiver, proven on the shipped processes from the outside.

- The archive queue: a worker takes tasks earliest deadline first, ``RECEIVER_ARCHIVE_
  CONCURRENCY`` at a time; a video over ``RECEIVER_MAX_VIDEO_BYTES`` fails at once; an
  archive whose link is lost ends ``expired`` (its last try 30 s before the link dies) and is
  listed by ``jobs --needs-attention``; two ``serve --no-worker`` replicas report the same
  queue and deadline margin and serve the same event stream (seen through a relay in front
  of the video links, ``/metrics`` and ``/v1/events``).
- Notifications: retried with backoff, or after the endpoint's ``Retry-After``, within 24 h
  of their making; ``receiver notifications [--failed]`` and ``notifications replay``; an
  endpoint added later gets events from then on, a removed one no new ones; a subscriber
  that hangs delays neither the watchdog nor a callback's answer.
- Signals and health: SIGTERM lets a request in flight finish while new connections are
  refused; a second signal exits at once; ``/readyz`` answers 503 without the bucket or the
  database; S3 credentials from boto3's chain and ``AWS_DEFAULT_REGION`` are used.
- ``receiver dev`` runs everything and shows a demo video stored; concurrent ``receiver
  migrate`` runs on one PostgreSQL database apply each migration once; ``requirements.lock``
  pins what the suite runs on; ``infra/env.example`` lists every setting with its default.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import boto3
import httpx
import pytest
from botocore.config import Config
from packaging.requirements import Requirement
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.devtools.seaweed import SeaweedFS, free_ports
from tests.conftest import POSTGRES, _admin, make_env, s3_env
from tests.e2e.conftest import Stack, spawn, stop_process, wait_up
from tests.e2e.promise_tools import (
    AUTH,
    Seen,
    api_job,
    await_job,
    cli,
    peak,
    relay,
    submit,
    wait_until,
)
from tests.servers import run_server
from tests.webhooks import new_secret

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _post_job(stack: Stack, prompt: str) -> str:
    """Submit over the API (no process to start: quick)."""
    answer = httpx.post(
        f"{stack.receiver_url}/v1/jobs", json={"prompt": prompt}, headers=AUTH, timeout=30
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def _metric(url: str, name: str) -> float:
    lines = httpx.get(url, timeout=10).text.splitlines()
    (value,) = [float(line.split()[-1]) for line in lines if line.startswith(name)]
    return value


def _stream(base: str, last: int) -> list[str]:
    """Every event of ``base``'s stream up to event ``last``, as the lines it sent."""
    sent: list[str] = []
    with httpx.stream(
        "GET", f"{base}/v1/events", headers=AUTH, timeout=httpx.Timeout(10, read=10)
    ) as response:
        for line in response.iter_lines():
            if line.startswith(("id:", "event:", "data:")):
                sent.append(line)
            if line == f"id: {last}":
                last = -1
            elif last == -1 and line.startswith("data:"):
                break
    return sent


# ── the archive queue ──


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_archive_order_concurrency_size_cap_expiry_and_replicas(stack: Stack) -> None:
    with relay(stack.simulator_url) as links:
        # Every video download is held 1 s by the relay, so overlaps show.
        links.delays[r"^/videos/"] = 1.0
        stack.simulator("PATCH", "/_simulator/config", json={"public_url": links.url})
        stack.stop_receiver()
        stack.start_receiver("--no-worker")

        # A second replica, started now: both read the queue and the events from the database.
        (port,) = free_ports(1)
        replica_url = f"http://127.0.0.1:{port}"
        log = stack.tmp_path / "replica.log"
        replica = spawn(["serve", "--no-worker", "--port", str(port)], stack.env, log)
        worker = None
        try:
            # Links that die at different times (each task keeps the config of its creation).
            hours = {"d": 5, "b": 10, "c": 15, "a": 20}
            jobs: dict[str, str] = {}
            for name, ttl in [("expired", 1), *[(k, h * 3600) for k, h in hours.items()]]:
                stack.simulator("PATCH", "/_simulator/config", json={"link_ttl": ttl})
                jobs[name] = _post_job(stack, f"A clip called {name}")
            too_big = {"link_ttl": 23 * 3600, "video_bytes": 2 << 20}
            stack.simulator("PATCH", "/_simulator/config", json=too_big)
            jobs["big"] = _post_job(stack, "A clip too big to keep")
            for job_id in jobs.values():
                await_job(stack, job_id, "completed")

            wait_up(f"{replica_url}/healthz", replica, log)
            urls = [stack.receiver_url, replica_url]
            depth = [
                _metric(f"{u}/metrics", 'receiver_archive_queue_depth{state="queued"}')
                for u in urls
            ]
            assert depth == [len(jobs), len(jobs)]
            margins = [
                _metric(f"{u}/metrics", "receiver_archive_min_deadline_margin_seconds")
                for u in urls
            ]
            assert abs(margins[0] - margins[1]) < 2
            page = httpx.get(f"{stack.receiver_url}/v1/jobs", headers=AUTH, timeout=10)
            last = page.json()["last_event_seq"]
            assert _stream(stack.receiver_url, last) == _stream(replica_url, last)

            worker_env = {
                **stack.env,
                "RECEIVER_ARCHIVE_CONCURRENCY": "2",
                "RECEIVER_MAX_VIDEO_BYTES": "1MiB",
            }
            worker = spawn(["worker"], worker_env, stack.tmp_path / "worker.log")
            # One more, once the worker runs: all its downloads fail; its link dies in 50 s.
            failing = {"link_ttl": 50, "video_bytes": None, "video_fail_first": 100}
            stack.simulator("PATCH", "/_simulator/config", json=failing)
            jobs["last-try"] = _post_job(stack, "A clip that never downloads")
            for name in hours:
                await_job(stack, jobs[name], "stored")
            big = wait_until(
                lambda: (
                    (job := api_job(stack, jobs["big"]))
                    and any(e["type"] == "archive.failed" for e in job["events"])
                    and job
                ),
                "the archive of the video over the cap to fail",
            )
            expired = await_job(stack, jobs["expired"], "expired", timeout=30)
            last_try = await_job(stack, jobs["last-try"], "expired", timeout=60)
        finally:
            for process in (worker, replica):
                if process is not None:
                    stop_process(process)

    tasks = {api_job(stack, job_id)["task_id"]: name for name, job_id in jobs.items()}
    downloads = links.requests("GET", r"^/videos/")

    def name_of(seen: Seen) -> str:
        return tasks[unquote(seen.path.removeprefix("/videos/").removesuffix(".mp4"))]

    # Earliest deadline first, two at a time.
    order = [name_of(s) for s in downloads if name_of(s) in {*hours, "big"}]
    assert set(order[:2]) == {"d", "b"}
    assert set(order[2:4]) == {"c", "a"}
    assert order[4:] == ["big"]
    assert peak(downloads) == 2

    # The video over the cap: refused at its first download, the job failed with why.
    attention = {
        row["id"]: row["reason"]
        for row in map(
            json.loads, stack.cli("jobs", "--needs-attention", "--json").stdout.splitlines()
        )
        if row["kind"] == "job"
    }
    assert "RECEIVER_MAX_VIDEO_BYTES" in attention[jobs["big"]], attention[jobs["big"]]
    assert big["asset"] is None
    assert [name_of(s) for s in downloads].count("big") == 1
    # The archives whose links died are listed too.
    assert expired["status"] == "expired"
    assert {jobs["expired"], jobs["last-try"]} <= set(attention)
    # Failing downloads are retried until 30 s before the link dies, then the job expires.
    tries = [s for s in downloads if name_of(s) == "last-try"]
    assert len(tries) >= 2
    link_dies = int(parse_qs(tries[-1].query)["expires"][0])
    assert -3 < tries[-1].at - (link_dies - 30) < 5, [link_dies - s.at for s in tries]
    assert last_try["status"] == "expired"
    expired_at = next(e for e in last_try["events"] if e["type"] == "job.expired")["created_at"]
    assert datetime.fromisoformat(expired_at).timestamp() < link_dies - 20


# ── notifications ──


@dataclass
class _Endpoint:
    """A subscriber that verifies each notification and answers as its prompt's script says."""

    secret: str
    scripts: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    held: set[str] = field(default_factory=set)
    received: list[tuple[float, str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    holding_since: float | None = None

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        payload = Webhook(self.secret).verify(raw, dict(request.headers))
        prompt = payload["data"]["job"]["prompt"]
        self.received.append((time.monotonic(), request.headers["webhook-id"], prompt))
        if prompt in self.held:
            self.held.discard(prompt)
            self.holding_since = time.time()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
        script = self.scripts.get(prompt) or []
        status, headers = script.pop(0) if script else (204, {})
        return Response(status_code=status, headers=headers)

    def times(self, prompt: str) -> list[float]:
        return [at for at, _, p in self.received if p == prompt]

    def ids(self, prompt: str) -> set[str]:
        return {webhook_id for _, webhook_id, p in self.received if p == prompt}

    def prompts(self) -> set[str]:
        return {p for _, _, p in self.received}


@pytest.fixture
def endpoints() -> Iterator[tuple[_Endpoint, str, _Endpoint, str]]:
    secret = new_secret()
    first, second = _Endpoint(secret), _Endpoint(secret)
    with (
        run_server(Starlette(routes=[Route("/hook", first.handle, methods=["POST"])])) as one,
        run_server(Starlette(routes=[Route("/hook", second.handle, methods=["POST"])])) as two,
    ):
        try:
            yield first, f"{one}/hook", second, f"{two}/hook"
        finally:
            first.release.set()
            second.release.set()


def _notifications(stack: Stack, *args: str) -> list[dict[str, Any]]:
    out = stack.cli("notifications", "--json", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_notification_retries_commands_endpoints_and_a_slow_subscriber(
    stack: Stack, endpoints: tuple[_Endpoint, str, _Endpoint, str]
) -> None:
    first, first_url, second, second_url = endpoints
    stack.simulator(
        "PATCH",
        "/_simulator/config",
        json={"retry_delays": [0.05, 0.05, 0.05], "estimated_time": 1, "delay": 0.3},
    )
    stack.stop_receiver()
    stack.start_receiver(
        RECEIVER_NOTIFY_SECRET=first.secret,
        RECEIVER_NOTIFY_URLS=first_url,
        RECEIVER_NOTIFY_INTERVAL="0.2s",
        RECEIVER_WATCHDOG_GRACE="2s",
        RECEIVER_WATCHDOG_INTERVAL="1s",
    )

    # Failures are retried with the same webhook-id: after a growing, jittered backoff
    # (1-2 s, then 2-4 s), or after the endpoint's Retry-After.
    first.scripts = {
        "backoff": [(500, {}), (500, {})],
        "told": [(503, {"Retry-After": "3"})],
        "too late": [(503, {"Retry-After": "90000"})],
        "not too late": [(503, {"Retry-After": "80000"})],
    }
    for prompt in ("backoff", "told", "too late", "not too late"):
        _post_job(stack, prompt)
    wait_until(lambda: len(first.times("backoff")) == 3, "the backoff notification, thrice")
    wait_until(lambda: len(first.times("told")) == 2, "the told notification, twice")
    tries = first.times("backoff")
    gaps = [later - earlier for earlier, later in itertools.pairwise(tries)]
    assert 0.9 <= gaps[0] <= 2.7, gaps
    assert 1.9 <= gaps[1] <= 4.7, gaps
    told = first.times("told")
    assert 3 <= told[1] - told[0] <= 3.8
    assert len(first.ids("backoff")) == len(first.ids("told")) == 1

    # A retry that would come more than 24 h after the notification was made is not
    # scheduled: the notification has failed. One inside the window waits for its turn.
    wait_until(
        lambda: len(first.times("too late")) == 1 and len(first.times("not too late")) == 1, "both"
    )
    states = {row["id"]: row for row in _notifications(stack)}
    (too_late,) = first.ids("too late")
    (not_too_late,) = first.ids("not too late")
    wait_until(lambda: _notifications(stack, "--failed"), "the failed notification to be listed")
    assert [row["id"] for row in _notifications(stack, "--failed")] == [too_late]
    assert _notifications(stack, "--failed")[0]["last_status"] == 503
    assert states[not_too_late]["state"] == "pending"
    assert stack.cli("notifications", "replay", too_late).stdout.strip() == (
        "queued 1 notification(s) to send again"
    )
    wait_until(lambda: len(first.times("too late")) == 2, "the replayed notification")
    assert first.ids("too late") == {too_late}
    wait_until(
        lambda: {r["id"]: r["state"] for r in _notifications(stack)}[too_late] == "delivered",
        "the replayed notification to be delivered",
    )

    # A subscriber that hangs holds up the notifier only: the watchdog, in its own thread,
    # still recovers a job whose callbacks were lost before the notifier's send times out
    # (10 s). The notifier is stuck first; then a job is made whose callbacks are lost, and
    # it is overdue 3 s later (estimate 1 s + grace 2 s): well inside the 10 s however
    # loaded the machine, and never before the notifier hangs.
    first.held.add("hangs")
    _post_job(stack, "hangs")
    wait_until(lambda: first.holding_since is not None, "the notifier to be stuck", 30)
    (nowhere,) = free_ports(1)
    lost_env = {**stack.env, "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{nowhere}"}
    lost = submit(stack, "lost", env=lost_env)
    # Callbacks are answered at once meanwhile: the request path sends nothing.
    junk = httpx.post(f"{stack.receiver_url}/callbacks/evolink/not-ours", json={}, timeout=10)
    assert junk.status_code == 403
    assert junk.elapsed.total_seconds() < 2
    recovered = await_job(stack, lost, "stored", timeout=30)
    assert [d["source"] for d in recovered["deliveries"]] == ["reconcile"]
    assert first.holding_since is not None
    stored_at = datetime.fromisoformat(recovered["stored_at"]).timestamp()
    assert 0 < stored_at - first.holding_since < 9.5, stored_at - first.holding_since
    assert not first.release.is_set()
    first.release.set()
    # (Every final event is made into notifications before the endpoints change below.)
    wait_until(lambda: "lost" in first.prompts(), "the recovered job's notification")

    # An endpoint added later gets what happens from then on; a removed one, nothing new.
    stack.stop_receiver()
    stack.start_receiver(RECEIVER_NOTIFY_URLS=second_url)
    _post_job(stack, "after the change")
    wait_until(lambda: "after the change" in second.prompts(), "the new endpoint's first event")
    assert second.prompts() == {"after the change"}
    assert "after the change" not in first.prompts()


# ── signals, readiness, credentials ──


def _slow_request(stack: Stack) -> tuple[socket.socket, bytes]:
    """A callback whose body has not all arrived yet; the socket and the rest of the body."""
    body = json.dumps({"id": "task-x", "status": "completed"}).encode()
    port = int(stack.receiver_url.rsplit(":", 1)[1])
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        "POST /callbacks/evolink/not-ours HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    connection.sendall(head.encode() + body[:10])
    return connection, body[10:]


def _read_to_the_end(connection: socket.socket) -> str:
    chunks = []
    while chunk := connection.recv(65536):
        chunks.append(chunk)
    connection.close()
    return b"".join(chunks).decode()


def _refused(stack: Stack) -> bool:
    port = int(stack.receiver_url.rsplit(":", 1)[1])
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def _signal(stack: Stack) -> subprocess.Popen[bytes]:
    assert stack.receiver is not None
    os.killpg(stack.receiver.pid, signal.SIGTERM)
    return stack.receiver


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_signals_and_the_credential_chain(
    stack: Stack, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    with ExitStack() as hops:
        _signals_and_the_credential_chain(stack, seaweedfs, tmp_path, hops)


def _signals_and_the_credential_chain(
    stack: Stack, seaweedfs: SeaweedFS, tmp_path: Path, hops: ExitStack
) -> None:
    # S3 credentials from boto3's chain (a shared credentials file), the region from
    # AWS_DEFAULT_REGION: archives work, every S3 request signed with that key, for that
    # region (seen through a relay in front of the store).
    credentials = tmp_path / "aws-credentials"
    credentials.write_text(
        "[default]\n"
        f"aws_access_key_id = {seaweedfs.credentials.access_key}\n"
        f"aws_secret_access_key = {seaweedfs.credentials.secret_key}\n"
    )
    (tmp_path / "aws-config").write_text("")
    stack.stop_receiver()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"):
        stack.env.pop(name)
    store = hops.enter_context(relay(seaweedfs.endpoint_url, keep_host=True))
    stack.start_receiver(
        RECEIVER_S3_ENDPOINT_URL=store.url,
        AWS_SHARED_CREDENTIALS_FILE=str(credentials),
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_DEFAULT_REGION="eu-west-1",
    )
    job = await_job(stack, submit(stack, "A heron over a canal"), "stored")
    video = httpx.get(
        f"{stack.receiver_url}/v1/jobs/{job['id']}/video",
        headers=AUTH,
        timeout=10,
        follow_redirects=True,
    )
    assert hashlib.sha256(video.content).hexdigest() == job["asset"]["sha256"]
    signed = [
        re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/s3/", s.headers.get("authorization", ""))
        or re.search(r"X-Amz-Credential=([^%/]+)(?:%2F|/)\d{8}(?:%2F|/)([^%/]+)", s.query)
        for s in store.seen
    ]
    scopes = {(m[1], m[2]) for m in signed if m}
    assert scopes == {(seaweedfs.credentials.access_key, "eu-west-1")}
    assert any(s.method == "PUT" for s in store.seen)  # the video's part went through

    # SIGTERM: no new connection is taken, the request in flight is answered, then it exits.
    connection, rest = _slow_request(stack)
    time.sleep(0.3)  # the request is being read
    receiver = _signal(stack)
    wait_until(lambda: _refused(stack), "new connections to be refused", 10)
    assert receiver.poll() is None
    connection.sendall(rest)
    answer = _read_to_the_end(connection)
    assert answer.startswith("HTTP/1.1 403"), answer
    assert '"delivery_id"' in answer
    # uvicorn re-raises the signal once it has shut down cleanly; 1 would be a forced exit.
    assert receiver.wait(10) in {0, -signal.SIGTERM}
    stack.receiver = None

    # A second signal exits at once, whatever is still in flight.
    stack.start_receiver()
    connection, _ = _slow_request(stack)
    time.sleep(0.3)
    receiver = _signal(stack)
    time.sleep(1)
    assert receiver.poll() is None, "the first signal waits for the request in flight"
    started = time.monotonic()
    _signal(stack)
    assert receiver.wait(5) == 1  # the forced exit
    assert time.monotonic() - started < 2
    connection.close()
    stack.receiver = None


def test_readyz_answers_503_without_the_bucket_or_the_database(
    seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    name = f"receiver_ready_{os.getpid()}_{int(time.time())}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    (port,) = free_ports(1)
    env = {
        **os.environ,
        **make_env(tmp_path, **s3_env(seaweedfs)),
        "RECEIVER_DATABASE_URL": f"{POSTGRES}/{name}",
    }
    s3 = boto3.client(
        "s3",
        endpoint_url=seaweedfs.endpoint_url,
        aws_access_key_id=seaweedfs.credentials.access_key,
        aws_secret_access_key=seaweedfs.credentials.secret_key,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    # A web process creates no bucket (a worker does): made here, as an operator would.
    s3.create_bucket(Bucket=env["RECEIVER_S3_BUCKET"])
    log = tmp_path / "receiver.log"
    receiver = spawn(["serve", "--no-worker", "--port", str(port)], env, log)
    ready = f"http://127.0.0.1:{port}/readyz"

    def answer() -> dict[str, str] | None:
        got = httpx.get(ready, timeout=60)
        return None if got.status_code == 200 else {"code": str(got.status_code), **got.json()}

    try:
        wait_up(ready, receiver, log)
        wait_until(lambda: answer() is None, "/readyz to be ready", 15)
        s3.delete_bucket(Bucket=env["RECEIVER_S3_BUCKET"])
        # /readyz reuses its answer for a second: the next one after that tells.
        gone = wait_until(answer, "/readyz to see the bucket gone", 10)
        assert gone["code"] == "503"
        assert gone["database"] == "ok"
        assert gone["bucket"].startswith("failing")
        s3.create_bucket(Bucket=env["RECEIVER_S3_BUCKET"])
        wait_until(lambda: answer() is None, "/readyz to be ready again", 10)
        with _admin() as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        gone = wait_until(answer, "/readyz to see the database gone", 10)
        assert gone["code"] == "503"
        assert gone["database"].startswith("failing")
        assert gone["bucket"] == "ok"
    finally:
        stop_process(receiver)
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ── receiver dev, migrations, the lock file ──


def test_receiver_dev_starts_everything_and_shows_a_demo_video_stored(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    env = {**os.environ, **make_env(tmp_path)}
    for name in list(env):
        if name.startswith(("RECEIVER_", "EVOLINK_", "KLING_", "AWS_")):
            del env[name]
    err = tmp_path / "dev.err"
    with err.open("wb") as out:
        dev = subprocess.Popen(
            [sys.executable, "-m", "receiver", "dev", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    try:
        said = wait_until(
            lambda: "press Ctrl-C" in (text := err.read_text()) and text,
            "receiver dev to be up with its demo job",
            120,
        )
        assert dev.poll() is None, said
        receiver = re.search(r"receiver\s+(http://\S+)", said)
        simulator = re.search(r"simulator\s+(http://\S+)", said)
        s3 = re.search(r"S3\s+(http://\S+)", said)
        assert receiver, said
        assert simulator, said
        assert s3, said
        assert receiver[1] == f"http://127.0.0.1:{port}"
        assert httpx.get(f"{receiver[1]}/healthz", timeout=5).json() == {"status": "ok"}
        assert httpx.get(f"{simulator[1]}/_simulator/config", timeout=5).status_code == 200
        stored = re.search(r"stored: (s3://\S+)\s+(\d+) bytes\s+sha256 ([0-9a-f]{64})", said)
        link = re.search(r"play it: (http://\S+)", said)
        assert stored, said
        assert link, said
        video = httpx.get(link[1], timeout=10)
        assert hashlib.sha256(video.content).hexdigest() == stored[3]
        assert len(video.content) == int(stored[2])
        # var/dev/env holds what another terminal needs: there, the demo job is stored.
        sourced = dict(
            re.findall(r"^export (\w+)=(\S+)$", (tmp_path / "var/dev/env").read_text(), re.M)
        )
        jobs = cli({**env, **sourced}, "jobs", "--json", "--status", "stored").stdout
        assert [json.loads(line)["asset"]["uri"] for line in jobs.splitlines()] == [stored[1]]
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGTERM)
    assert dev.wait(30) == 0
    assert "stopping" in err.read_text()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


def test_migrations_run_at_once_on_postgresql_are_applied_once(tmp_path: Path) -> None:
    name = f"receiver_migrate_{os.getpid()}_{int(time.time())}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        env = {
            **os.environ,
            **make_env(tmp_path),
            "RECEIVER_DATABASE_URL": f"{POSTGRES}/{name}",
        }
        runs = [
            subprocess.Popen(
                [sys.executable, "-m", "receiver", "migrate"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            for _ in range(4)
        ]
        said = [run.communicate(timeout=60)[0].strip() for run in runs]
        assert [run.returncode for run in runs] == [0] * 4, said
        applied = [
            int(m[1]) for m in (re.fullmatch(r"applied (\d+) migration\(s\)", x) for x in said) if m
        ]
        up_to_date = said.count("the schema is up to date")
        assert len(applied) + up_to_date == 4, said
        # Each migration once, whichever process got to it first.
        migrations = len(list((ROOT / "receiver/store/sql/migrations").glob("*.sql")))
        assert sum(applied) == migrations, said
        assert cli(env, "migrate").stdout.strip() == "the schema is up to date"
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_suite_runs_on_the_versions_requirements_lock_pins() -> None:
    """What ``pip install -c requirements.lock`` installs is what this suite runs on."""

    def key(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    pinned = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[key(name)] = version.strip()
    installed = {
        key(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions()
    }
    # Every pin is the version installed here...
    assert {name: installed.get(name) for name in pinned} == pinned
    # ... and every dependency a plain install pulls in (receiver's own, transitively, no
    # extras) is pinned.
    needed: set[str] = set()
    todo = ["receiver"]
    while todo:
        for text in importlib.metadata.requires(todo.pop()) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            if (name := key(requirement.name)) not in needed:
                needed.add(name)
                todo.append(name)
    assert needed
    assert needed - set(pinned) == set()


def test_env_example_lists_every_setting_with_its_default() -> None:
    """``infra/env.example`` names every setting of docs/configuration.md; a commented-out
    line shows the documented default. (The simulator's own keys configure a test tool, not
    a deployment, and are left out.)"""
    documented = {
        name: default.strip()
        for name, default in re.findall(
            r"^\| `([A-Z][A-Z0-9_]+)`[^|]* \| ([^|]*) \|",
            (ROOT / "docs/configuration.md").read_text(),
            re.MULTILINE,
        )
        if not name.startswith("RECEIVER_SIMULATOR_")
    }
    assert len(documented) > 50
    listed = {
        name: (commented == "#", value.strip())
        for commented, name, value in re.findall(
            r"^(#?) ?([A-Z][A-Z0-9_]+)=(.*)$",
            (ROOT / "infra/env.example").read_text(),
            re.MULTILINE,
        )
    }
    assert set(documented) - set(listed) == set()
    for name, default in documented.items():
        literal = re.fullmatch(r"`([^`]*)`", default)
        commented, value = listed[name]
        if commented and literal:
            assert value == literal[1], f"{name}: env.example {value!r}, documented {default}"
