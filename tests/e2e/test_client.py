"""receiver.client against a real ``receiver serve`` on SeaweedFS and the simulator.

- submit -> wait -> download, sync and async, the file's SHA-256 the provider's own;
  idempotency keys; every page of jobs; costs, estimates, retries, replays; each refusal its
  own error type; the client's Job holds every field the API sends.
- ``wait(timeout=2)`` on a job that never finishes, or sits in an unknown status, returns
  in about 2 s.
- ``events()`` survives a restart of the receiver without missing or repeating an event.
- A notification from the real notifier is verified by ``parse_notification``; a tampered
  one is refused.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.client import (
    AsyncClient,
    BadRequest,
    BudgetExceeded,
    Client,
    Conflict,
    Costs,
    DownloadError,
    Event,
    Job,
    NotFound,
    NotificationError,
    ReplaySummary,
    Unauthorized,
    WaitTimeout,
    parse_notification,
)
from tests.e2e.conftest import ADMIN_TOKEN, Stack
from tests.servers import run_server
from tests.webhooks import new_secret

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _task_sha(stack: Stack, job: Job) -> str:
    tasks = stack.simulator("GET", "/_simulator/stats")["tasks"]
    sha: str = tasks[job.task_id]["sha256"]
    return sha


def _slow(stack: Stack) -> None:
    """Tasks created from now on take ten minutes (longer than any test)."""
    stack.simulator("PATCH", "/_simulator/config", json={"delay": 600})


def _quick(stack: Stack) -> None:
    stack.simulator("PATCH", "/_simulator/config", json={"delay": 0.5})


def test_submit_wait_download_and_every_call(stack: Stack, tmp_path: Path) -> None:
    with Client(stack.receiver_url, ADMIN_TOKEN) as client:
        # Submit with an idempotency key: the same request again is the same job.
        job = client.submit("a kite over the dunes", duration=5, idempotency_key="kite-1")
        assert job.status in {"pending", "processing"}
        again = client.submit("a kite over the dunes", duration=5, idempotency_key="kite-1")
        assert again.id == job.id
        with pytest.raises(Conflict):
            client.submit("another kite", duration=5, idempotency_key="kite-1")

        stored = client.wait(job, timeout=60)
        assert stored.stored
        assert stored.asset is not None
        saved = client.download(stored, tmp_path)
        assert saved.path == tmp_path / f"{job.id}.mp4"
        assert _sha256(saved.path) == stored.asset.sha256 == _task_sha(stack, stored)
        assert not list(tmp_path.glob("*.partial"))

        # A local first frame goes with the request and is staged in our bucket; the
        # provider fetches it from there (the simulator checks it at create).
        frame = tmp_path / "frame.png"
        Image.new("RGB", (720, 1280), (40, 90, 160)).save(frame)
        stack.simulator("PATCH", "/_simulator/config", json={"fetch_images": True})
        pictured = client.wait(client.submit("a heron takes off", image=frame), timeout=60)
        assert pictured.stored
        assert str(pictured.params["image"]).startswith("s3://")
        assert "/inputs/" in str(pictured.params["image"])
        assert pictured.params["aspect_ratio"] == "9:16"
        tiny = tmp_path / "tiny.png"
        Image.new("RGB", (100, 100)).save(tiny)
        with pytest.raises(BadRequest, match="image_url"):
            client.submit("too small a frame", image=tiny)

        # The client reads every field of a job the API sends.
        raw = httpx.get(
            f"{stack.receiver_url}/v1/jobs/{job.id}",
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            timeout=10,
        ).json()
        assert set(raw) == {field.name for field in dataclasses.fields(Job)}
        assert set(raw["asset"]) <= {field.name for field in dataclasses.fields(type(stored.asset))}

        # Every page, each job once.
        for n in range(2):
            client.submit(f"a lantern {n}", duration=3)
        ids = [listed.id for listed in client.jobs(page_size=1)]
        assert len(ids) == len(set(ids)) == 4  # the kite, the heron, two lanterns
        assert {job.id, pictured.id} <= set(ids)

        estimate = client.estimate("a kite", duration=5)
        assert estimate.credits is not None
        assert estimate.credits > 0
        costs = client.costs(since="1d")
        assert isinstance(costs, Costs)
        assert costs.total_credits > 0
        assert isinstance(client.replay_failed(dry_run=True), ReplaySummary)
        with pytest.raises(Conflict):
            client.retry(job)  # stored: nothing to retry
        with pytest.raises(NotFound, match="no job 'job_nope'"):
            client.get("job_nope")
    with (
        Client(stack.receiver_url, "wrong-token-" + "x" * 20) as stranger,
        pytest.raises(Unauthorized, match=stack.receiver_url),
    ):
        stranger.get(job.id)

    # The async client: the same round trip.
    async def round_trip() -> tuple[Job, Path]:
        async with AsyncClient(stack.receiver_url, ADMIN_TOKEN) as aclient:
            submitted = await aclient.submit("a heron at dawn", duration=3)
            done = await aclient.wait(submitted.id, timeout=60)
            saved = await aclient.download(done, tmp_path / "heron.mp4")
            return done, saved.path

    done, path = asyncio.run(round_trip())
    assert done.asset is not None
    assert _sha256(path) == done.asset.sha256 == _task_sha(stack, done)

    # A real timeout: a job that never finishes, one in a status nobody knows.
    _slow(stack)
    with Client(stack.receiver_url, ADMIN_TOKEN) as client:
        never = client.submit("a very slow snail", duration=3)
        _quick(stack)
        unknown = client.submit("a mystery [sim:unknown]", duration=3)
        for job in (never, unknown):
            started = time.monotonic()
            with pytest.raises(WaitTimeout) as caught:
                client.wait(job, timeout=2)
            took = time.monotonic() - started
            assert 1.9 <= took <= 3.5, took
            assert caught.value.pending == (job.id,)
        assert client.get(unknown).attention  # it did get its (unknown) status meanwhile

    async def async_timeout() -> float:
        async with AsyncClient(stack.receiver_url, ADMIN_TOKEN) as aclient:
            started = time.monotonic()
            with pytest.raises(WaitTimeout):
                await aclient.wait(never.id, timeout=2)
            return time.monotonic() - started

    assert 1.9 <= asyncio.run(async_timeout()) <= 3.5

    # The README's example, as written, does what it says.
    here = tmp_path / "readme"
    here.mkdir()
    ran = subprocess.run(
        [sys.executable, "-c", _readme_example()],
        cwd=here,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    printed, sha = ran.stdout.split()
    (video,) = (here / "videos").iterdir()
    assert printed == f"videos/{video.name}"
    assert _sha256(video) == sha


def _readme_example() -> str:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    after = readme.split("From Python", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


class _RawSubscriber:
    """A notification endpoint that keeps each request as it came: headers and raw body."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def handle(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)


@pytest.fixture
def raw_subscriber() -> Iterator[tuple[_RawSubscriber, str]]:
    endpoint = _RawSubscriber()
    app = Starlette(routes=[Route("/hook", endpoint.handle, methods=["POST"])])
    with run_server(app) as base:
        yield endpoint, f"{base}/hook"


def _wait_until(check: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_events_survive_a_restart_and_notifications_verify(
    stack: Stack,
    raw_subscriber: tuple[_RawSubscriber, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="receiver.client")
    endpoint, url = raw_subscriber
    secret = new_secret()
    with Client(stack.receiver_url, ADMIN_TOKEN) as client:
        start = client.check()
        # Long enough that the job is still going when the receiver stops; the watchdog
        # asks about it soon after the restart if its callback came while it was down.
        stack.simulator("PATCH", "/_simulator/config", json={"delay": 4, "estimated_time": 1})
        job = client.submit("a lighthouse in fog", duration=3)

    seen: list[Event] = []
    stop = threading.Event()

    def follow() -> None:
        with Client(stack.receiver_url, ADMIN_TOKEN, reconnect_limit=60) as follower:
            for event in follower.events(after=start):
                seen.append(event)
                if event.type == "asset.stored" or stop.is_set():
                    return

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    _wait_until(lambda: any(e.type == "job.submitted" for e in seen), "the first events")
    stack.stop_receiver()
    time.sleep(1.0)
    stack.start_receiver(
        RECEIVER_NOTIFY_URLS=url,
        RECEIVER_NOTIFY_SECRET=secret,
        RECEIVER_NOTIFY_INTERVAL="0.2s",
        RECEIVER_MAX_CREDITS_PER_DAY="0",
        # A callback that came while it was down is made good by the watchdog.
        RECEIVER_WATCHDOG_GRACE="1s",
        RECEIVER_WATCHDOG_INTERVAL="1s",
    )
    thread.join(90)
    stop.set()
    assert not thread.is_alive()
    assert "event stream broke" in caplog.text  # it did lose the stream, and came back

    with Client(stack.receiver_url, ADMIN_TOKEN) as client:
        everything: list[Event] = []
        for event in client.events(after=start):
            everything.append(event)
            if event.seq == seen[-1].seq:
                break
        # Every event, once, in order: nothing missed, nothing repeated.
        assert [e.seq for e in seen] == [e.seq for e in everything]
        assert [e.seq for e in seen] == sorted({e.seq for e in seen})
        assert seen[-1].job_id == job.id

        # The 402 of a budget is its own error (RECEIVER_MAX_CREDITS_PER_DAY=0 now).
        with pytest.raises(BudgetExceeded) as refused:
            client.submit("one more", duration=3)
        assert refused.value.status_code == 402

    # The notifier of the restarted receiver told the subscriber, signed.
    _wait_until(lambda: endpoint.received, "the notification")
    headers, body = endpoint.received[0]
    notification = parse_notification(headers, body, secret)
    assert notification.type == "asset.stored"
    assert notification.job_id == job.id
    assert notification.asset is not None
    assert notification.asset.sha256 == seen[-1].data["sha256"]
    tampered = json.loads(body)
    tampered["data"]["job"]["id"] = "job_someone_else"
    with pytest.raises(NotificationError):
        parse_notification(headers, json.dumps(tampered).encode(), secret)
    with pytest.raises(NotificationError):
        parse_notification(headers, body, new_secret())


def test_the_client_downloads_every_song_of_a_job(stack: Stack, tmp_path: Path) -> None:
    # A Suno task returns two songs: two stored files, results 0 and 1.
    submitted = json.loads(
        stack.cli("submit", "a sea shanty", "--model", "suno-v5-beta", "--json").stdout
    )
    with Client(stack.receiver_url, ADMIN_TOKEN) as client:
        job = client.wait(submitted["id"], timeout=60)
        assert job.stored
        assert [a.result_index for a in job.assets] == [0, 1]
        songs = tmp_path / "songs"
        saved = client.download_all(job, f"{songs}/")
        assert [s.path for s in saved] == [songs / job.id / "0.mp3", songs / job.id / "1.mp3"]
        assert [s.result_index for s in saved] == [0, 1]
        assert [_sha256(s.path) for s in saved] == [a.sha256 for a in job.assets]
        assert not list(songs.rglob("*.partial"))
        # One of them, by its index; the second's link is its own file.
        second = client.download(job, tmp_path, index=1)
        assert second.path == tmp_path / job.id / "1.mp3"
        assert second.sha256 == job.assets[1].sha256
        link = client.video_url(job, 1)
        assert hashlib.sha256(httpx.get(link, timeout=30).content).hexdigest() == second.sha256
        first = httpx.get(client.video_url(job), timeout=30).content
        assert hashlib.sha256(first).hexdigest() == job.assets[0].sha256 != second.sha256
        # Which file is meant must be said; several never go to one file path.
        with pytest.raises(DownloadError, match="2 files"):
            client.download(job, tmp_path)
        with pytest.raises(DownloadError, match="directory"):
            client.download_all(job, tmp_path / "song.mp3")
        assert not (tmp_path / "song.mp3").exists()
        # A job from the list (whose page may carry the first file only) is read whole.
        (listed,) = [each for each in client.jobs() if each.id == job.id]
        again = client.download_all(listed, f"{tmp_path}/listed/")
        assert [s.sha256 for s in again] == [a.sha256 for a in job.assets]

    async def both() -> tuple[Path, ...]:
        async with AsyncClient(stack.receiver_url, ADMIN_TOKEN) as aclient:
            files = await aclient.download_all(job.id, tmp_path / "async")
            return tuple(f.path for f in files)

    (tmp_path / "async").mkdir()
    paths = asyncio.run(both())
    assert paths == tuple(tmp_path / "async" / job.id / f"{n}.mp3" for n in range(2))
    assert [_sha256(path) for path in paths] == [a.sha256 for a in job.assets]
