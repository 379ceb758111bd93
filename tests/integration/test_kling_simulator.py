"""The Kling adapter against the simulator's Kling dialect, both served for real on loopback.

Callbacks go to a small real server that records every body, so the status-by-status
callbacks travel over real sockets as Kling's would.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.config import Secret
from receiver.devtools.seaweed import free_ports
from receiver.devtools.simulator import SimulatorConfig, create_app
from receiver.devtools.simulator.video import sample_bytes
from receiver.errors import ProviderAuthError, ProviderError, ProviderRateLimited
from receiver.providers.base import JobRequest, TaskSnapshot, TaskStatus
from receiver.providers.kling import KlingProvider
from receiver.providers.kling_auth import mint_api_token
from tests.servers import run_server

pytestmark = pytest.mark.integration

ACCESS_KEY = "ak-kling-simulator-test"
SECRET_KEY = "sk-kling-simulator-test-" + "k" * 16
FAST = SimulatorConfig(
    kling_access_key=ACCESS_KEY,
    kling_secret_key=SECRET_KEY,
    delay=0.3,
    retry_delays=(0.05, 0.1, 0.2),
    callback_timeout=2.0,
    allow_http_callbacks=True,
    allow_private_callbacks=True,
)


class Catcher:
    """Records callback bodies; the first ``fail_first`` answers are 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self._lock = threading.Lock()
        self._bodies: list[bytes] = []
        self._fail_left = fail_first

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self._bodies.append(body)
                failing = self._fail_left > 0
                self._fail_left -= failing
            return Response(status_code=500 if failing else 204)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])

    @property
    def bodies(self) -> list[bytes]:
        with self._lock:
            return list(self._bodies)


@dataclass
class KlingSim:
    url: str
    provider: KlingProvider

    def stats(self, task_id: str) -> dict[str, object]:
        task: dict[str, object] = httpx.get(f"{self.url}/_simulator/stats").json()["tasks"][task_id]
        return task

    def wait_final(self, task_id: str) -> TaskSnapshot:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            snapshot = self.provider.get_task(task_id)
            stats = self.stats(task_id)
            if snapshot.status.is_terminal and stats["callback_state"] in {
                "none",
                "delivered",
                "gave_up",
            }:
                return snapshot
            time.sleep(0.05)
        raise AssertionError(f"task {task_id} never finished: {self.stats(task_id)}")


def _provider(url: str, *, secret_key: str = SECRET_KEY) -> KlingProvider:
    return KlingProvider(access_key=ACCESS_KEY, secret_key=Secret(secret_key), base_url=url)


@pytest.fixture
def sim() -> Iterator[KlingSim]:
    with run_server(create_app(FAST)) as url:
        provider = _provider(url)
        try:
            yield KlingSim(url, provider)
        finally:
            provider.close()


@pytest.fixture
def catcher_url() -> Iterator[tuple[Catcher, str]]:
    catcher = Catcher(fail_first=1)
    with run_server(catcher.app()) as url:
        yield catcher, f"{url}/hook"


def test_a_task_calls_back_on_every_status_change(
    sim: KlingSim, catcher_url: tuple[Catcher, str]
) -> None:
    catcher, hook = catcher_url
    created = sim.provider.create(JobRequest(prompt="a fox"), callback_url=hook, job_id="job_k1")
    assert created.status == TaskStatus.PENDING
    assert created.raw["task_info"] == {"external_task_id": "job_k1"}

    final = sim.wait_final(created.task_id)
    assert final.status == TaskStatus.COMPLETED
    snapshots = [sim.provider.parse_callback(body) for body in catcher.bodies]
    # The first answer was a 500: the processing callback came again, then the final one.
    assert [s.raw_status for s in snapshots] == ["processing", "processing", "succeed"]
    assert {s.task_id for s in snapshots} == {created.task_id}
    assert snapshots[-1].video_urls == final.video_urls
    attempts = sim.stats(created.task_id)["callback_attempts"]
    assert isinstance(attempts, list)
    assert [(a["kind"], a["status"]) for a in attempts] == [
        ("first", "processing"),
        ("retry", "processing"),
        ("first", "completed"),
    ]
    (url,) = final.video_urls
    assert httpx.get(url).content == sample_bytes()


def test_image_tasks_are_found_on_their_own_route(sim: KlingSim) -> None:
    created = sim.provider.create(
        JobRequest(prompt="it moves", image_url="https://images.example.com/first.png"),
        callback_url="http://127.0.0.1:9/none",
        job_id="job_k2",
    )
    wrong_route = httpx.get(
        f"{sim.url}/v1/videos/text2video/{created.task_id}",
        headers={"Authorization": f"Bearer {_token()}"},
    )
    assert wrong_route.status_code == 404
    assert wrong_route.json()["code"] == 1203
    # The adapter cannot tell a task's kind from its id, so it asks both routes.
    assert sim.provider.get_task(created.task_id).task_id == created.task_id


def test_a_failed_generation_says_why(sim: KlingSim) -> None:
    created = sim.provider.create(
        JobRequest(prompt="a fox [sim:fail]"), callback_url="http://127.0.0.1:9/x", job_id="j3"
    )
    final = sim.wait_final(created.task_id)
    assert final.status == TaskStatus.FAILED
    assert final.raw_status == "failed"
    assert final.error_message
    assert "simulated" in final.error_message


def test_a_job_id_creates_one_task_only(sim: KlingSim) -> None:
    sim.provider.create(JobRequest(prompt="once"), callback_url="http://127.0.0.1:9/x", job_id="j4")
    with pytest.raises(ProviderError) as caught:
        sim.provider.create(
            JobRequest(prompt="twice"), callback_url="http://127.0.0.1:9/x", job_id="j4"
        )
    assert caught.value.code == "1201"
    assert "already exists" in caught.value.message


def test_tokens_signed_with_another_secret_are_refused(sim: KlingSim) -> None:
    impostor = _provider(sim.url, secret_key="not-the-secret-" + "x" * 24)
    with pytest.raises(ProviderAuthError, match="code 1002"):
        impostor.create(JobRequest(prompt="a fox"), callback_url="http://127.0.0.1:9/x", job_id="j")
    impostor.close()
    unsigned = httpx.post(f"{sim.url}/v1/videos/text2video", json={"prompt": "a fox"})
    assert unsigned.status_code == 401
    assert unsigned.json()["code"] == 1001


def test_rate_limits_and_refusals_speak_klings_codes(sim: KlingSim) -> None:
    httpx.patch(f"{sim.url}/_simulator/config", json={"rate_limit_next": 1}).raise_for_status()
    with pytest.raises(ProviderRateLimited) as caught:
        sim.provider.create(JobRequest(prompt="a"), callback_url="http://127.0.0.1:9/x", job_id="j")
    assert caught.value.retry_after == 1.0
    assert caught.value.code == "1302"
    token = {"Authorization": f"Bearer {_token()}"}
    refused = httpx.post(
        f"{sim.url}/v1/videos/text2video",
        headers=token,
        json={"prompt": "a", "model_name": "kling-v2-6", "duration": "7"},
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == 1201
    assert "duration" in refused.json()["message"]
    no_image = httpx.post(f"{sim.url}/v1/videos/image2video", headers=token, json={"prompt": "a"})
    assert no_image.json()["code"] == 1201
    assert "image" in no_image.json()["message"]


def _token() -> str:
    return mint_api_token(ACCESS_KEY, SECRET_KEY)


def test_the_simulator_command_takes_a_kling_key_pair(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    log = (tmp_path / "simulator.log").open("wb")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "receiver", "simulator", "--port", str(port)),
            *("--kling-access-key", ACCESS_KEY, "--kling-secret-key", SECRET_KEY),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                config = httpx.get(f"http://127.0.0.1:{port}/_simulator/config").json()
                break
            except httpx.HTTPError:
                assert process.poll() is None, (tmp_path / "simulator.log").read_text()
                assert time.monotonic() < deadline, "the simulator did not come up"
                time.sleep(0.1)
        assert config["kling_access_key"] == ACCESS_KEY
        assert config["kling_secret_key"] == "**********"
        impostor = _provider(f"http://127.0.0.1:{port}", secret_key="wrong-" + "w" * 32)
        with pytest.raises(ProviderAuthError):
            impostor.get_task("nope")
        impostor.close()
    finally:
        process.terminate()
        process.wait(10)
        log.close()
