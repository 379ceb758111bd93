"""The provider simulator, served for real by uvicorn on loopback ports.

Callbacks go to a second real server (the "catcher") that can answer 500 on demand, so
retries, lost responses and duplicates travel over real sockets like EvoLink's would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import itertools
import shutil
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.devtools.simulator import SimulatorConfig, VideoFile, create_app
from receiver.devtools.simulator.video import sample_bytes
from receiver.providers.base import TaskStatus
from receiver.providers.evolink_protocol import parse_task, parse_task_json

pytestmark = pytest.mark.integration

API_KEY = "sk-evo-simulator-test"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
FAST = SimulatorConfig(
    api_key=API_KEY,
    delay=0.2,
    retry_delays=(0.05, 0.1, 0.2),
    callback_timeout=2.0,
    allow_http_callbacks=True,
    allow_private_callbacks=True,
)
SAMPLE = Path(__file__).parents[2] / "receiver" / "devtools" / "simulator" / "sample.mp4"


@contextlib.contextmanager
def serve_in_thread(app: Starlette, *, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    """Serve ``app`` on a free loopback port until the block ends; yields its base URL.

    ``tls`` is a (certificate, key) pair to serve https with.
    """
    # An explicit IPPROTO_TCP, or asyncio leaves Nagle on and each keep-alive answer waits
    # 40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    certfile, keyfile = tls or (None, None)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            log_level="warning",
            access_log=False,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not server.started:
            assert thread.is_alive(), "server crashed on start-up"
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.005)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
    assert not thread.is_alive(), "server did not stop"


class Catcher:
    """One callback endpoint: records every body, fails on demand."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._bodies: list[bytes] = []
        self._failures_left = 0

    def fail_next(self, count: int) -> None:
        with self._lock:
            self._failures_left = count

    @property
    def bodies(self) -> list[bytes]:
        with self._lock:
            return list(self._bodies)

    def receive(self, body: bytes) -> int:
        """Record ``body``; the status code to answer."""
        with self._lock:
            self._bodies.append(body)
            failing = self._failures_left > 0
            self._failures_left -= failing
        return 500 if failing else 204


class CatcherServer:
    """The receiving end of callbacks: one server, one :class:`Catcher` per test."""

    def __init__(self) -> None:
        self.url = ""
        self._catchers: dict[str, Catcher] = {}

    def new_catcher(self, base_url: str | None = None) -> Catcher:
        """A fresh endpoint, reached through ``base_url`` (default: this server's)."""
        name = f"hook-{len(self._catchers)}"
        catcher = self._catchers[name] = Catcher(f"{base_url or self.url}/{name}")
        return catcher

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            catcher = self._catchers[request.path_params["name"]]
            return Response(status_code=catcher.receive(await request.body()))

        return Starlette(routes=[Route("/{name}", hook, methods=["POST"])])


@dataclass
class Sim:
    """A running simulator and an authenticated client for it."""

    url: str
    client: httpx.Client

    def create(self, **body: Any) -> httpx.Response:
        return self.client.post("/v1/videos/generations", json={"prompt": "a cat", **body})

    def create_task(self, **body: Any) -> str:
        response = self.create(**body)
        assert response.status_code == 200, response.text
        task_id: str = response.json()["id"]
        return task_id

    def task(self, task_id: str) -> dict[str, Any]:
        response = self.client.get(f"/v1/tasks/{task_id}")
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()
        return task

    def stats(self, task_id: str) -> dict[str, Any]:
        stats: dict[str, Any] = self.client.get("/_simulator/stats").json()["tasks"][task_id]
        return stats

    def wait(
        self, task_id: str, ready: Callable[[dict[str, Any]], bool], timeout: float = 5.0
    ) -> dict[str, Any]:
        """The task's stats once ``ready`` holds for them."""
        deadline = time.monotonic() + timeout
        while True:
            stats = self.stats(task_id)
            if ready(stats):
                return stats
            assert time.monotonic() < deadline, f"timed out; last stats: {stats}"
            time.sleep(0.01)

    def wait_callbacks(self, task_id: str) -> dict[str, Any]:
        return self.wait(task_id, lambda s: s["callback_state"] in {"delivered", "gave_up"})

    def video_url(self, task_id: str) -> str:
        self.wait(task_id, lambda s: s["status"] == "completed")
        url: str = self.task(task_id)["results"][0]
        return url


SimFactory = Callable[..., Sim]


@pytest.fixture
def start_simulator() -> Iterator[SimFactory]:
    """Start simulators configured like :data:`FAST` with the given changes."""
    with contextlib.ExitStack() as stack:

        def start(**changes: Any) -> Sim:
            config = dataclasses.replace(FAST, **changes)
            url = stack.enter_context(serve_in_thread(create_app(config)))
            client = stack.enter_context(httpx.Client(base_url=url, headers=AUTH, timeout=5))
            return Sim(url, client)

        yield start


@pytest.fixture
def sim(start_simulator: SimFactory) -> Sim:
    return start_simulator()


@pytest.fixture(scope="module")
def strict_sim() -> Iterator[Sim]:
    """A simulator with EvoLink's own rules: https callbacks only, no internal hosts."""
    config = SimulatorConfig(api_key=API_KEY)
    with (
        serve_in_thread(create_app(config)) as url,
        httpx.Client(base_url=url, headers=AUTH, timeout=5) as client,
    ):
        yield Sim(url, client)


@pytest.fixture(scope="module")
def catcher_server() -> Iterator[CatcherServer]:
    server = CatcherServer()
    with serve_in_thread(server.app()) as url:
        server.url = url
        yield server


@pytest.fixture
def catcher(catcher_server: CatcherServer) -> Catcher:
    return catcher_server.new_catcher()


# --- creating and querying tasks ---------------------------------------------------------


def test_create_answers_the_documented_task_object(strict_sim: Sim) -> None:
    before = int(time.time())
    response = strict_sim.create(duration=7, quality="1080p", aspect_ratio="9:16")

    assert response.status_code == 200
    task = response.json()
    assert task["id"].startswith(f"task-unified-{task['created']}-")
    assert before <= task["created"] <= time.time()
    assert task == {
        "created": task["created"],
        "id": task["id"],
        "model": "kling-v3-turbo-text-to-video",
        "object": "video.generation.task",
        "progress": 0,
        "status": "pending",
        "task_info": {"can_cancel": True, "estimated_time": 180, "video_duration": 7},
        "type": "video",
        "usage": {"billing_rule": "per_second", "credits_reserved": 63.0, "user_group": "default"},
    }
    assert strict_sim.task(task["id"]) == task


def test_create_defaults_match_the_seed_example(strict_sim: Sim) -> None:
    task = strict_sim.create().json()

    assert task["usage"]["credits_reserved"] == 36.0
    assert task["task_info"]["video_duration"] == 5


def test_image_to_video_is_chosen_by_image_start(strict_sim: Sim) -> None:
    task = strict_sim.create(image_start="https://images.example.com/first.png").json()

    assert task["model"] == "kling-v3-turbo-image-to-video"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        pytest.param({}, "prompt", id="prompt-missing"),
        pytest.param({"prompt": 42}, "prompt", id="prompt-not-string"),
        pytest.param({"prompt": "   "}, "prompt", id="prompt-blank"),
        pytest.param({"prompt": "x" * 2501}, "prompt", id="prompt-too-long"),
        pytest.param({"prompt": "a", "duration": "5"}, "duration", id="duration-string"),
        pytest.param({"prompt": "a", "duration": 5.5}, "duration", id="duration-float"),
        pytest.param({"prompt": "a", "duration": True}, "duration", id="duration-bool"),
        pytest.param({"prompt": "a", "duration": 2}, "duration", id="duration-short"),
        pytest.param({"prompt": "a", "duration": 16}, "duration", id="duration-long"),
        pytest.param({"prompt": "a", "aspect_ratio": "4:3"}, "aspect_ratio", id="aspect"),
        pytest.param({"prompt": "a", "quality": "4k"}, "quality", id="quality"),
        pytest.param({"prompt": "a", "sound": "loud"}, "sound", id="sound"),
        pytest.param({"prompt": "a", "model": "kling-v9"}, "model", id="model-unknown"),
        pytest.param({"prompt": "a", "model": 3}, "model", id="model-not-string"),
        pytest.param(
            {"prompt": "a", "model": "kling-v3-image-to-video"}, "image_start", id="image-missing"
        ),
        pytest.param(
            {
                "prompt": "a",
                "model": "kling-v3-text-to-video",
                "image_start": "https://images.example.com/a.png",
            },
            "image_start",
            id="image-on-text-model",
        ),
        pytest.param(
            {"prompt": "a", "image_start": "https://images.example.com/a.gif"},
            "image_start",
            id="image-not-jpg-or-png",
        ),
        pytest.param(
            {"prompt": "a", "callback_url": "http://hooks.example.com/cb"},
            "callback_url",
            id="callback-http",
        ),
        pytest.param({"prompt": "a", "callback_url": 7}, "callback_url", id="callback-type"),
        pytest.param(
            {"prompt": "a", "callback_url": "hooks.example.com/cb"},
            "callback_url",
            id="callback-relative",
        ),
        pytest.param(
            {"prompt": "a", "callback_url": "https://hooks.example.com/" + "x" * 2030},
            "callback_url",
            id="callback-too-long",
        ),
        *(
            pytest.param(
                {"prompt": "a", "callback_url": f"https://{host}/cb"},
                "callback_url",
                id=f"callback-internal-{host}",
            )
            for host in (
                "127.0.0.1",
                "127.8.9.10:8443",
                "10.1.2.3",
                "172.16.0.1",
                "172.31.255.254",
                "192.168.1.20",
                "localhost",
                "[::1]",
                "[::ffff:10.0.0.1]",
            )
        ),
    ],
)
def test_create_refuses_invalid_requests_in_evolink_format(
    strict_sim: Sim, body: dict[str, Any], param: str
) -> None:
    response = strict_sim.client.post("/v1/videos/generations", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]
    assert set(error) == {"code", "message", "type", "param", "fallback_suggestion"}


@pytest.mark.parametrize("host", ["hooks.example.com", "172.32.0.1", "11.0.0.1"])
def test_public_https_callback_hosts_are_accepted(strict_sim: Sim, host: str) -> None:
    assert strict_sim.create(callback_url=f"https://{host}/cb").status_code == 200


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_create_refuses_bodies_that_are_not_json_objects(strict_sim: Sim, content: bytes) -> None:
    response = strict_sim.client.post("/v1/videos/generations", content=content)

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["param"] is None


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"Authorization": "Bearer"}, id="empty"),
        pytest.param({"Authorization": "Bearer sk-evo-wrong"}, id="wrong"),
        pytest.param({"Authorization": f"Basic {API_KEY}"}, id="not-bearer"),
        pytest.param({"Authorization": API_KEY}, id="no-scheme"),
    ],
)
def test_the_api_needs_the_configured_key(strict_sim: Sim, headers: dict[str, str]) -> None:
    task_id = strict_sim.create_task()
    with httpx.Client(base_url=strict_sim.url, headers=headers) as client:
        answers = [
            client.post("/v1/videos/generations", json={"prompt": "a cat"}),
            client.get(f"/v1/tasks/{task_id}"),
        ]

    for response in answers:
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["type"] == "authentication_error"
        assert set(error) == {"code", "message", "type", "param", "fallback_suggestion"}


def test_any_key_passes_when_none_is_configured(start_simulator: SimFactory) -> None:
    sim = start_simulator(api_key=None)

    response = sim.client.post(
        "/v1/videos/generations",
        json={"prompt": "a cat"},
        headers={"Authorization": "Bearer anything"},
    )

    assert response.status_code == 200


def test_unknown_task_is_not_found(strict_sim: Sim) -> None:
    response = strict_sim.client.get("/v1/tasks/task-unified-1-nosuchtask")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found_error"


def test_rate_limit_can_be_injected(sim: Sim) -> None:
    assert sim.client.patch("/_simulator/config", json={"rate_limit_next": 2}).status_code == 200

    refused = [sim.create() for _ in range(2)]
    accepted = sim.create()

    for response in refused:
        assert response.status_code == 429
        assert response.headers["retry-after"] == "1"
        assert response.json()["error"]["type"] == "rate_limit_error"
    assert accepted.status_code == 200
    assert sim.client.get("/_simulator/config").json()["rate_limit_next"] == 0


# --- lifecycle and callbacks -------------------------------------------------------------


def test_task_goes_through_processing_to_completed_and_calls_back(
    start_simulator: SimFactory, catcher: Catcher
) -> None:
    sim = start_simulator(delay=0.5, processing_after=0.05)
    task_id = sim.create_task(callback_url=catcher.url)

    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + 5
    while not seen or seen[-1]["status"] != "completed":
        assert time.monotonic() < deadline
        seen.append(sim.task(task_id))
        time.sleep(0.01)
    stats = sim.wait_callbacks(task_id)

    statuses = [task["status"] for task in seen]
    assert statuses == sorted(statuses, key=["pending", "processing", "completed"].index)
    assert "processing" in statuses
    processing = next(task for task in seen if task["status"] == "processing")
    assert processing["progress"] == 50
    final = seen[-1]
    assert final["progress"] == 100
    assert final["results"][0].startswith(f"{sim.url}/videos/{task_id}.mp4?expires=")
    assert "error" not in final
    assert catcher.bodies == [catcher.bodies[0]]
    snapshot = parse_task_json(catcher.bodies[0])
    assert snapshot.raw == final
    assert snapshot.status is TaskStatus.COMPLETED
    assert snapshot.video_urls == tuple(final["results"])
    assert stats["callback_url_present"] is True
    assert stats["callback_state"] == "delivered"
    [attempt] = stats["callback_attempts"]
    assert attempt["attempt"] == 1
    assert attempt["kind"] == "first"
    assert attempt["status_code"] == 204
    assert attempt["delivered"] is True


def test_task_without_callback_url_is_only_polled(sim: Sim) -> None:
    task_id = sim.create_task()

    stats = sim.wait(task_id, lambda s: s["status"] == "completed")

    assert stats["callback_url_present"] is False
    assert stats["callback_state"] == "none"
    assert stats["callback_attempts"] == []


def test_failed_callbacks_are_retried_after_the_configured_delays(
    sim: Sim, catcher: Catcher
) -> None:
    catcher.fail_next(2)
    task_id = sim.create_task(callback_url=catcher.url)

    stats = sim.wait_callbacks(task_id)

    attempts = stats["callback_attempts"]
    assert stats["callback_state"] == "delivered"
    assert [a["status_code"] for a in attempts] == [500, 500, 204]
    assert [a["kind"] for a in attempts] == ["first", "retry", "retry"]
    assert [a["delivered"] for a in attempts] == [False, False, True]
    gaps = [later["at"] - earlier["at"] for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.05 - 0.005
    assert gaps[1] >= 0.1 - 0.005
    assert len(set(catcher.bodies)) == 1


def test_callback_is_given_up_after_three_retries(sim: Sim, catcher: Catcher) -> None:
    catcher.fail_next(100)
    task_id = sim.create_task(callback_url=catcher.url)

    stats = sim.wait_callbacks(task_id)

    assert stats["callback_state"] == "gave_up"
    assert [a["status_code"] for a in stats["callback_attempts"]] == [500] * 4
    assert len(catcher.bodies) == 4


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that is its own CA, and its key."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make a certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-days", "2", "-subj", "/CN=simulator test CA",
            "-addext", "subjectAltName=IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def test_https_callbacks_trust_the_ca_bundle(
    start_simulator: SimFactory, catcher_server: CatcherServer, self_signed: tuple[Path, Path]
) -> None:
    cert, _ = self_signed
    trusting = start_simulator(ca_bundle=str(cert))
    distrusting = start_simulator()
    with serve_in_thread(catcher_server.app(), tls=self_signed) as url:
        catcher = catcher_server.new_catcher(url)
        trusted = trusting.create_task(callback_url=catcher.url)
        untrusted = distrusting.create_task(callback_url=catcher.url)

        trusted_stats = trusting.wait_callbacks(trusted)
        untrusted_stats = distrusting.wait_callbacks(untrusted)

    assert trusted_stats["callback_state"] == "delivered"
    assert len(catcher.bodies) == 1
    assert untrusted_stats["callback_state"] == "gave_up"
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted_stats["callback_attempts"][0]["error"]


def test_unreachable_callback_records_the_error(sim: Sim) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    task_id = sim.create_task(callback_url=f"http://127.0.0.1:{port}/hook")

    stats = sim.wait_callbacks(task_id)

    assert stats["callback_state"] == "gave_up"
    assert len(stats["callback_attempts"]) == 4
    for attempt in stats["callback_attempts"]:
        assert attempt["status_code"] is None
        assert "ConnectError" in attempt["error"]


def test_lost_responses_and_duplicates_are_injected_and_counted(
    start_simulator: SimFactory, catcher: Catcher
) -> None:
    sim = start_simulator(callback_fail_first=2, duplicate_callbacks=2)
    task_id = sim.create_task(callback_url=catcher.url)

    stats = sim.wait_callbacks(task_id)

    attempts = stats["callback_attempts"]
    assert stats["callback_state"] == "delivered"
    assert [a["kind"] for a in attempts] == ["first", "retry", "retry", "duplicate", "duplicate"]
    assert [a["status_code"] for a in attempts] == [204] * 5
    assert [a["delivered"] for a in attempts] == [False, False, True, True, True]
    assert attempts[0]["error"] == "counted as failed (callback_fail_first)"
    bodies = catcher.bodies
    assert len(bodies) == 5
    assert len(set(bodies)) == 1


@pytest.mark.parametrize(
    ("marker", "raw_status", "status"),
    [
        ("[sim:fail]", "failed", TaskStatus.FAILED),
        ("[sim:cancel]", "cancelled", TaskStatus.CANCELLED),
        ("[sim:unknown]", "mystery", TaskStatus.UNKNOWN),
    ],
)
def test_prompt_markers_choose_the_outcome(
    sim: Sim, catcher: Catcher, marker: str, raw_status: str, status: TaskStatus
) -> None:
    task_id = sim.create_task(prompt=f"a cat {marker}", callback_url=catcher.url)

    stats = sim.wait_callbacks(task_id)

    assert stats["status"] == raw_status
    assert stats["callback_state"] == "delivered"
    snapshot = parse_task_json(catcher.bodies[0])
    assert snapshot.raw_status == raw_status
    assert snapshot.status is status
    assert snapshot.video_urls == ()
    assert parse_task(sim.task(task_id)).raw == snapshot.raw
    if status is TaskStatus.FAILED:
        assert snapshot.error_code == "content_policy_violation"
        assert snapshot.error_message
    else:
        assert "error" not in snapshot.raw


def test_config_outcome_applies_to_unmarked_prompts(start_simulator: SimFactory) -> None:
    sim = start_simulator(outcome="cancelled")
    task_id = sim.create_task()

    assert sim.wait(task_id, lambda s: s["status"] != "pending")["status"] in {
        "processing",
        "cancelled",
    }
    assert sim.wait(task_id, lambda s: s["status"] == "cancelled")["sha256"] is None


def test_tasks_keep_the_config_they_were_created_with(sim: Sim) -> None:
    first = sim.create_task()
    sim.client.patch("/_simulator/config", json={"outcome": "failed"})
    second = sim.create_task()

    assert sim.wait(first, lambda s: s["status"] == "completed")
    assert sim.wait(second, lambda s: s["status"] == "failed")


# --- video links ---------------------------------------------------------------------------


def _boxes(data: bytes) -> list[tuple[bytes, int]]:
    """The top-level MP4 boxes of ``data`` as (type, size); asserts they tile it exactly."""
    boxes, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        assert size >= 8
        boxes.append((kind, size))
        offset += size
    assert offset == len(data)
    return boxes


def test_video_is_a_valid_mp4_of_exactly_video_bytes(start_simulator: SimFactory) -> None:
    sim = start_simulator(video_bytes=600_000)
    task_id, other_id = sim.create_task(), sim.create_task()
    url = sim.video_url(task_id)

    first = sim.client.get(url)
    second = sim.client.get(url)
    other = sim.client.get(sim.video_url(other_id))

    assert first.status_code == 200
    assert first.headers["content-type"] == "video/mp4"
    assert first.headers["content-length"] == "600000"
    assert first.headers["accept-ranges"] == "bytes"
    assert first.headers["etag"].startswith('"')
    assert len(first.content) == 600_000
    assert first.content[4:8] == b"ftyp"
    boxes = _boxes(first.content)
    assert boxes[-1] == (b"free", 600_000 - len(sample_bytes()))
    assert first.content.startswith(SAMPLE.read_bytes())
    digest = hashlib.sha256(first.content).hexdigest()
    assert hashlib.sha256(second.content).hexdigest() == digest
    assert hashlib.sha256(other.content).hexdigest() != digest
    assert len(other.content) == 600_000
    stats = sim.stats(task_id)
    assert stats["sha256"] == digest
    assert stats["size"] == 600_000
    assert (stats["downloads"], stats["range_downloads"]) == (2, 0)


def test_video_is_the_sample_when_no_size_is_set(sim: Sim) -> None:
    response = sim.client.get(sim.video_url(sim.create_task()))

    assert response.content == SAMPLE.read_bytes()
    assert _boxes(response.content)[0][0] == b"ftyp"


def test_head_describes_the_video_without_counting_a_download(sim: Sim) -> None:
    task_id = sim.create_task()

    response = sim.client.head(sim.video_url(task_id))

    assert response.status_code == 200
    assert response.headers["content-length"] == str(len(sample_bytes()))
    assert response.content == b""
    assert sim.stats(task_id)["downloads"] == 0


def test_ranges_and_if_range(start_simulator: SimFactory) -> None:
    sim = start_simulator(video_bytes=300_000)
    task_id = sim.create_task()
    url = sim.video_url(task_id)
    full = sim.client.get(url)
    etag = full.headers["etag"]

    def get(**headers: str) -> httpx.Response:
        return sim.client.get(url, headers=headers)

    middle = get(Range="bytes=262000-262999")
    assert middle.status_code == 206
    assert middle.headers["content-range"] == "bytes 262000-262999/300000"
    assert middle.headers["content-length"] == "1000"
    assert middle.content == full.content[262000:263000]

    tail = get(Range="bytes=299990-")
    assert tail.headers["content-range"] == "bytes 299990-299999/300000"
    assert tail.content == full.content[-10:]
    suffix = get(Range="bytes=-20")
    assert suffix.status_code == 206
    assert suffix.content == full.content[-20:]
    clamped = get(Range="bytes=299000-999999")
    assert clamped.headers["content-range"] == "bytes 299000-299999/300000"

    resumed = get(Range="bytes=100-", **{"If-Range": etag})
    assert resumed.status_code == 206
    assert resumed.content == full.content[100:]
    changed = get(Range="bytes=100-", **{"If-Range": '"another-version"'})
    assert changed.status_code == 200
    assert changed.content == full.content

    unsatisfiable = get(Range="bytes=300000-")
    assert unsatisfiable.status_code == 416
    assert unsatisfiable.headers["content-range"] == "bytes */300000"
    for ignored in ("bytes=5-1", "bytes=0-1,5-9", "items=0-1"):
        assert get(Range=ignored).status_code == 200

    stats = sim.stats(task_id)
    assert stats["range_downloads"] == 5
    assert stats["downloads"] == 5


def test_tampered_and_unknown_links_are_refused(sim: Sim) -> None:
    task_id = sim.create_task()
    url = httpx.URL(sim.video_url(task_id))
    expires, sig = url.params["expires"], url.params["sig"]

    bad_sig = sim.client.get(url.copy_set_param("sig", "0" * 64))
    later = sim.client.get(url.copy_set_param("expires", str(int(expires) + 3600)))
    unsigned = sim.client.get(url.copy_with(query=None))
    unknown = sim.client.get(f"/videos/task-unified-1-nosuchtask.mp4?expires={expires}&sig={sig}")

    assert bad_sig.status_code == 403
    assert later.status_code == 403
    assert unsigned.status_code == 403
    assert unknown.status_code == 404
    assert bad_sig.headers["content-type"].startswith("text/plain")
    assert sim.stats(task_id)["downloads"] == 0


def test_pending_task_has_no_video(start_simulator: SimFactory) -> None:
    sim = start_simulator(delay=30)
    task_id = sim.create_task()

    assert sim.client.get(f"/videos/{task_id}.mp4").status_code == 404


def test_expired_link_is_gone(start_simulator: SimFactory) -> None:
    sim = start_simulator(link_ttl=0)

    response = sim.client.get(sim.video_url(sim.create_task()))

    assert response.status_code == 410
    assert response.headers["content-type"].startswith("text/plain")


def test_first_downloads_can_be_made_to_fail(start_simulator: SimFactory) -> None:
    sim = start_simulator(video_fail_first=2)
    task_id = sim.create_task()
    url = sim.video_url(task_id)

    codes = [sim.client.get(url).status_code for _ in range(3)]

    assert codes == [500, 500, 200]
    stats = sim.stats(task_id)
    assert (stats["failed_downloads"], stats["downloads"]) == (2, 1)


def test_links_use_the_configured_public_url(start_simulator: SimFactory) -> None:
    sim = start_simulator(public_url="https://cdn.example.com/sim/")
    task_id = sim.create_task()

    url = sim.video_url(task_id)

    assert url.startswith(f"https://cdn.example.com/sim/videos/{task_id}.mp4?")


def test_videos_beyond_4_gib_use_a_64_bit_box_size() -> None:
    size = 5 * 2**32
    video = VideoFile("task-unified-1-huge", size)
    sample = len(sample_bytes())

    header = b"".join(video.iter_bytes(sample, sample + 16))
    tail = b"".join(video.iter_bytes(size - 10))

    assert struct.unpack(">I4sQ", header) == (1, b"free", size - sample)
    assert len(tail) == 10
    assert tail == b"".join(video.iter_bytes(size - 10, size))


# --- the control API and the server itself ------------------------------------------------


def test_config_can_be_read_and_patched(sim: Sim) -> None:
    current = sim.client.get("/_simulator/config").json()

    assert current["secret"] == "**********"
    assert current["api_key"] == "**********"
    assert current["retry_delays"] == [0.05, 0.1, 0.2]

    patched = sim.client.patch(
        "/_simulator/config",
        json={"delay": 1, "retry_delays": [0.5], "outcome": "failed", "video_bytes": None},
    )
    assert patched.status_code == 200
    assert sim.client.get("/_simulator/config").json() == patched.json()
    assert patched.json()["delay"] == 1.0
    assert patched.json()["retry_delays"] == [0.5]
    assert patched.json()["outcome"] == "failed"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"no_such_knob": 1}, "unknown config field(s): no_such_knob"),
        ({"delay": "fast"}, "delay must be a number"),
        ({"delay": True}, "delay must be a number"),
        ({"duplicate_callbacks": 1.5}, "duplicate_callbacks must be an integer"),
        ({"allow_http_callbacks": 1}, "allow_http_callbacks must be true or false"),
        ({"retry_delays": 1}, "retry_delays must be a list of numbers"),
        ({"outcome": "exploded"}, "outcome must be one of"),
        ({"delay": -1}, "delay must be a finite number >= 0"),
        ({"video_bytes": 10}, "video_bytes must be at least"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "ca_bundle '/nonexistent/ca.pem' cannot be loaded"),
        ([1], "expected a JSON object"),
    ],
)
def test_config_patch_is_validated(sim: Sim, changes: Any, problem: str) -> None:
    before = sim.client.get("/_simulator/config").json()

    response = sim.client.patch("/_simulator/config", json=changes)

    assert response.status_code == 400
    assert problem in response.json()["error"]
    assert sim.client.get("/_simulator/config").json() == before


def test_shutdown_cancels_tasks_in_flight(catcher: Catcher) -> None:
    config = dataclasses.replace(FAST, delay=30)
    with (
        serve_in_thread(create_app(config)) as url,
        httpx.Client(base_url=url, headers=AUTH) as client,
    ):
        created = client.post(
            "/v1/videos/generations", json={"prompt": "a cat", "callback_url": catcher.url}
        )
        assert created.status_code == 200
        stopping = time.monotonic()

    assert time.monotonic() - stopping < 2
    assert catcher.bodies == []
