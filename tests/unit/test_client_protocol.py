"""The client's protocol against canned answers: errors, events, waiting, downloading.

The same core serves both shells; each behaviour that involves I/O is run through both
(``Client`` on an ``httpx.MockTransport``, ``AsyncClient`` on its async twin).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from receiver.client import (
    APIError,
    AsyncClient,
    BadRequest,
    BudgetExceeded,
    ChecksumMismatch,
    Client,
    ConfigurationError,
    Conflict,
    DownloadError,
    InvalidArgument,
    Job,
    NotFound,
    PaymentRequired,
    ProtocolError,
    RateLimited,
    ServerError,
    Unauthorized,
    Unreachable,
)
from receiver.client._sse import EventCursor, SSEDecoder
from receiver.errors import ConfigError, NotFoundError

BASE = "http://receiver.test"
TOKEN = "t" * 32
VIDEO = bytes(range(256)) * 1000
SHA = hashlib.sha256(VIDEO).hexdigest()


def _job(job_id: str = "job_1", status: str = "processing", **extra: Any) -> dict[str, Any]:
    return {
        "id": job_id,
        "status": status,
        "provider": "evolink",
        "model": "m",
        "prompt": "p",
        "params": {},
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:01Z",
        "asset": None,
        "events": [],
        "deliveries": [],
        **extra,
    }


ASSET = {
    "uri": "s3://b/k/job_1.mp4",
    "bucket": "b",
    "key": "k/job_1.mp4",
    "size_bytes": len(VIDEO),
    "sha256": SHA,
    "content_type": "video/mp4",
    "stored_at": "2026-01-01T00:00:02Z",
}


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> Client:
    return Client(BASE, TOKEN, transport=httpx.MockTransport(handler))


# ── settings ──


def test_settings_come_from_the_clis_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_job())

    monkeypatch.setenv("RECEIVER_API_URL", "http://elsewhere.test:9/")
    monkeypatch.setenv("RECEIVER_ADMIN_TOKEN", TOKEN)
    with Client(transport=httpx.MockTransport(handler)) as client:
        client.get("job_1")
    assert str(seen[0].url) == "http://elsewhere.test:9/v1/jobs/job_1"
    assert seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_a_missing_token_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RECEIVER_ADMIN_TOKEN", raising=False)
    with pytest.raises(ConfigurationError, match="RECEIVER_ADMIN_TOKEN") as caught:
        Client(BASE)
    assert isinstance(caught.value, ConfigError)  # the CLI's exit 2
    with pytest.raises(ConfigurationError, match="RECEIVER_API_URL"):
        Client("ftp://x", TOKEN)


# ── errors ──

ERRORS = [
    (400, {"error": "invalid_request", "field": "duration", "message": "3-15"}, BadRequest),
    (401, {"error": "unauthorized", "message": "no"}, Unauthorized),
    (402, {"error": "budget_exceeded", "message": "over"}, BudgetExceeded),
    (402, {"error": "budget_unpriced", "message": "no price"}, BudgetExceeded),
    (402, {"error": "provider_quota", "message": "empty"}, PaymentRequired),
    (404, {"error": "not_found", "message": "gone"}, NotFound),
    (409, {"error": "idempotency_conflict", "message": "other body"}, Conflict),
    (429, {"error": "provider_rate_limited", "message": "slow"}, RateLimited),
    (502, {"error": "provider_error", "message": "boom"}, ServerError),
    (503, "<html>proxy</html>", ServerError),
    (418, {"error": "teapot"}, APIError),
]


@pytest.mark.parametrize(("status", "body", "error"), ERRORS)
def test_each_refusal_is_its_own_error(status: int, body: Any, error: type[Exception]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body)
        return httpx.Response(status, json=body, headers={"retry-after": "7"})

    with _client(handler) as client, pytest.raises(error) as caught:
        client.submit("a kite", duration=5)
    raised = caught.value
    assert type(raised) is error
    assert isinstance(raised, APIError)
    assert raised.status_code == status
    if isinstance(body, dict):
        assert raised.code == body["error"]
    if isinstance(raised, BadRequest):
        assert raised.field == "duration"
    if isinstance(raised, RateLimited):
        assert raised.retry_after == 7


def test_a_401_names_the_url_that_answered_it() -> None:
    with (
        _client(lambda request: httpx.Response(401, json={"error": "unauthorized"})) as client,
        pytest.raises(Unauthorized, match=f"{BASE}/v1/jobs/job_1"),
    ):
        client.get("job_1")


def test_a_404_of_a_job_names_the_job_and_is_a_receiver_not_found() -> None:
    answer = httpx.Response(404, json={"error": "not_found"})
    with (
        _client(lambda request: answer) as client,
        pytest.raises(NotFound, match="no job 'job_x'") as caught,
    ):
        client.get("job_x")
    assert isinstance(caught.value, NotFoundError)


def test_no_answer_is_unreachable_and_a_strange_answer_a_protocol_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with _client(refuse) as client, pytest.raises(Unreachable, match=BASE):
        client.get("job_1")
    with (
        _client(lambda request: httpx.Response(200, json={"id": 1})) as client,
        pytest.raises(ProtocolError),
    ):
        client.get("job_1")


def test_arguments_the_client_can_judge_are_refused_before_sending(tmp_path: Path) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json=_job())

    text = tmp_path / "frame.txt"
    text.write_text("not an image")
    with _client(handler) as client:
        with pytest.raises(InvalidArgument, match="neither a JPEG nor a PNG"):
            client.submit("x", image=text)
        with pytest.raises(InvalidArgument, match="cannot read"):
            client.submit("x", image=tmp_path / "missing.png")
        with pytest.raises(InvalidArgument):
            client.get("")
    assert sent == []


def test_submit_sends_every_option_a_local_image_inline_and_the_idempotency_key(
    tmp_path: Path,
) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json=_job())

    frame = tmp_path / "frame.png"
    frame.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    with _client(handler) as client:
        job = client.submit(
            "a kite",
            shots=["2:up", (3, "down")],
            image=frame,
            duration=5,
            sound=False,
            provider="kling",
            idempotency_key="order-42",
        )
    assert job.id == "job_1"
    body = json.loads(sent[0].content)
    assert body["shots"] == ["2:up", {"seconds": 3, "text": "down"}]
    assert body["image_url"].startswith("data:image/png;base64,iVBORw0KGgo")
    assert body["sound"] == "off"
    assert body["provider"] == "kling"
    assert sent[0].headers["idempotency-key"] == "order-42"


def test_jobs_iterates_over_every_page() -> None:
    pages: dict[str | None, dict[str, Any]] = {
        None: {"jobs": [_job("job_3"), _job("job_2")], "next_cursor": "job_2"},
        "job_2": {"jobs": [_job("job_1")], "next_cursor": None},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        page = pages[request.url.params.get("cursor")]
        return httpx.Response(200, json={**page, "total": 3, "last_event_seq": 9})

    with _client(handler) as client:
        assert [job.id for job in client.jobs(status="stored")] == ["job_3", "job_2", "job_1"]


# ── a job's fate ──


def _event(seq: int, kind: str) -> dict[str, Any]:
    return {"seq": seq, "type": kind, "data": {}, "created_at": "2026-01-01T00:00:00Z"}


@pytest.mark.parametrize(
    ("status", "events", "asset", "failure"),
    [
        ("processing", ["job.processing"], None, None),
        ("stored", ["job.completed", "asset.stored"], ASSET, None),
        ("failed", ["job.failed"], None, "job.failed"),
        ("completed", ["job.completed", "archive.failed"], None, "archive.failed"),
        # A failed archive that was retried is open again.
        ("completed", ["archive.failed", "archive.retried"], None, None),
        ("expired", ["job.expired", "archive.retried", "archive.failed"], None, "archive.failed"),
        # Listed without a history: judged by the status.
        ("cancelled", [], None, "job.cancelled"),
        ("processing", ["job.attention"], None, None),
    ],
)
def test_when_a_job_is_decided(
    status: str, events: list[str], asset: Any, failure: str | None
) -> None:
    history = [_event(n, kind) for n, kind in enumerate(events, 1)]
    job = Job.from_json(_job(status=status, events=history, asset=asset))
    assert job.failure == failure
    assert job.decided == (failure is not None or asset is not None)
    assert (job.reason is None) == (failure is None)


# ── Server-Sent Events ──


def test_the_decoder_follows_the_sse_rules() -> None:
    decoder = SSEDecoder()
    lines = [
        ": connected",
        "retry: 250",
        "id: 7",
        "event: job.pending",
        'data: {"a":',
        "data:1}",
        "",
        "",  # a blank line with nothing pending dispatches nothing
        "id: 8",
        "data: x",
        "ignored-field: y",
        "",
        "data: no id here",
        "",
    ]
    events = [event for line in lines if (event := decoder.decode(line)) is not None]
    assert [(e.event, e.data, e.id, e.retry) for e in events] == [
        ("job.pending", '{"a":\n1}', "7", 250),
        ("message", "x", "8", None),
        # The last id stands until a new one comes.
        ("message", "no id here", "8", None),
    ]


def test_the_cursor_resumes_after_the_last_id_and_gives_up_after_its_limit() -> None:
    cursor = EventCursor(job="job_1", after=5, reconnect_limit=10)
    assert cursor.headers()["Last-Event-ID"] == "5"
    assert cursor.params() == {"job": "job_1"}
    data = {"seq": 6, "job_id": "job_1", "type": "job.pending", "created_at": "2026-01-01T00:00Z"}
    for line in ["id: 6", "event: job.pending", f"data: {json.dumps(data)}"]:
        assert cursor.feed(line) is None
    event = cursor.feed("")
    assert event is not None
    assert (event.seq, event.job_id, event.type) == (6, "job_1", "job.pending")
    assert cursor.headers()["Last-Event-ID"] == "6"
    assert [cursor.broke("down", now) for now in (100, 101, 102, 103, 104)] == [
        0.5,
        1.0,
        2.0,
        4.0,
        5.0,
    ]
    with pytest.raises(Unreachable, match="failing for 11 s: down"):
        cursor.broke("down", 111)
    cursor.connected()  # a stream that opened again resets the clock
    assert cursor.broke("down", 200) == 0.5
    # The server's retry: field sets the pause.
    for line in ["retry: 250", "id: 7", f"data: {json.dumps({**data, 'seq': 7})}", ""]:
        cursor.feed(line)
    assert cursor.broke("down", 201) == 0.25


def _sse(*events: tuple[int, str, str]) -> bytes:
    out = ": connected\n\n"
    for seq, job_id, kind in events:
        data = {"seq": seq, "job_id": job_id, "type": kind, "created_at": "2026-01-01T00:00Z"}
        out += f"id: {seq}\nevent: {kind}\ndata: {json.dumps(data)}\n\n"
    return out.encode()


class FakeAPI:
    """A receiver in one function: jobs, an event log, a video with Range support."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {"job_1": _job()}
        self.log: list[tuple[int, str, str]] = []
        self.requests: list[httpx.Request] = []
        self.streams = 0
        self.video = VIDEO
        self.cut_after: int | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/v1/events":
            self.streams += 1
            after = int(request.headers.get("last-event-id") or 0)
            job = request.url.params.get("job")
            found = [e for e in self.log if e[0] > after and (job is None or e[1] == job)]
            return httpx.Response(200, content=_sse(*found))
        if path == "/v1/jobs" and request.method == "GET":
            return httpx.Response(200, json={"jobs": [], "next_cursor": None, "last_event_seq": 0})
        if path.endswith("/video") and request.url.host != "s3.test":
            return httpx.Response(302, headers={"location": "http://s3.test/bucket/video"})
        if request.url.host == "s3.test":
            assert "authorization" not in request.headers  # the token stays home
            start = int(request.headers.get("range", "bytes=0-")[6:].rstrip("-"))
            body = self.video[start:]
            if self.cut_after is not None:
                body, self.cut_after = body[: self.cut_after], None
                return httpx.Response(206 if start else 200, stream=_Broken(body))
            headers = {"content-range": f"bytes {start}-{len(self.video) - 1}/{len(self.video)}"}
            return httpx.Response(206 if start else 200, content=body, headers=headers)
        job_id = path.split("/")[3]
        return httpx.Response(200, json=self.jobs[job_id])

    def decide(self, job_id: str, seq: int, kind: str, asset: Any = None) -> None:
        self.log.append((seq, job_id, kind))
        self.jobs[job_id] = _job(job_id, "stored", events=[_event(seq, kind)], asset=asset)


class _Broken(httpx.SyncByteStream):
    def __init__(self, body: bytes) -> None:
        self._body = body

    def __iter__(self) -> Iterator[bytes]:
        yield self._body
        raise httpx.ReadError("connection reset")


def test_wait_answers_at_once_for_a_decided_job_and_follows_the_stream_otherwise() -> None:
    api = FakeAPI()
    api.decide("job_1", 3, "asset.stored", ASSET)
    with _client(api) as client:
        assert client.wait("job_1").stored
        assert api.streams == 0  # decided already: no stream opened
    api = FakeAPI()
    api.log = [(1, "job_1", "job.processing")]
    api.jobs["job_1"] = _job(events=[_event(1, "job.processing")])

    seen: list[str] = []

    def on_event(event: Any) -> None:
        seen.append(event.type)
        api.decide("job_1", 2, "job.failed")  # what the job's page says from now on

    api.log.append((2, "job_1", "job.failed"))
    with _client(api) as client:
        job = client.wait("job_1", on_event=on_event)
    assert job.failure == "job.failed"
    assert seen == ["job.failed"]  # from after the last event the job had: nothing twice
    stream = next(r for r in api.requests if r.url.path == "/v1/events")
    assert stream.headers["last-event-id"] == "1"
    assert stream.url.params["job"] == "job_1"


def test_wait_all_yields_each_job_as_it_is_decided() -> None:
    api = FakeAPI()
    api.jobs["job_2"] = _job("job_2")
    api.log = [(1, "job_2", "job.processing"), (2, "job_2", "job.failed")]
    api.jobs["job_2"] = _job("job_2", "failed", events=[_event(2, "job.failed")])
    api.log.append((3, "job_1", "asset.stored"))
    api.jobs["job_1"] = _job("job_1", "stored", events=[_event(3, "asset.stored")], asset=ASSET)
    with _client(api) as client:
        # Read before: both decided on the first read, no stream needed.
        assert {job.id for job in client.wait_all(["job_1", "job_2"])} == {"job_1", "job_2"}
        # From an event number read before they were submitted: from the stream alone.
        decided = list(client.wait_all(["job_1", "job_2"], after=0))
    assert [job.id for job in decided] == ["job_2", "job_1"]


def test_download_resumes_a_partial_and_checks_the_sha256(tmp_path: Path) -> None:
    api = FakeAPI()
    api.decide("job_1", 1, "asset.stored", ASSET)
    with _client(api) as client:
        # Cut off half-way: the next try continues with a Range request.
        api.cut_after = 100_000
        saved = client.download("job_1", tmp_path)
        assert saved.path == tmp_path / "job_1.mp4"
        assert saved.path.read_bytes() == VIDEO
        assert saved.fetched_bytes == len(VIDEO)
        ranges = [r.headers.get("range") for r in api.requests if r.url.host == "s3.test"]
        assert ranges == [None, "bytes=100000-"]
        assert not (tmp_path / "job_1.mp4.partial").exists()

        # A .partial left by an earlier run is continued, its bytes hashed first.
        (tmp_path / "again.mp4.partial").write_bytes(VIDEO[:5000])
        saved = client.download("job_1", tmp_path / "again.mp4")
        assert saved.fetched_bytes == len(VIDEO) - 5000
        assert saved.sha256 == SHA

        # A .partial of other bytes fails the check, and the download starts over.
        (tmp_path / "other.mp4.partial").write_bytes(b"x" * 5000)
        saved = client.download("job_1", tmp_path / "other.mp4")
        assert saved.path.read_bytes() == VIDEO

        # Bytes that are not the recorded video are never renamed into place.
        api.video = VIDEO[:-1] + b"!"
        with pytest.raises(ChecksumMismatch):
            client.download("job_1", tmp_path / "bad.mp4")
        assert not (tmp_path / "bad.mp4").exists()
        assert not (tmp_path / "bad.mp4.partial").exists()


def test_download_targets(tmp_path: Path) -> None:
    api = FakeAPI()
    api.decide("job_1", 1, "asset.stored", ASSET)
    with _client(api) as client:
        made = client.download("job_1", f"{tmp_path}/new/dir/")
        assert made.path == tmp_path / "new" / "dir" / "job_1.mp4"
        with pytest.raises(DownloadError, match="no directory"):
            client.download("job_1", tmp_path / "missing" / "video.mp4")
        api.jobs["job_1"] = _job()
        with pytest.raises(DownloadError, match="no stored video"):
            client.download("job_1", tmp_path)


# ── the async shell, the same protocol ──


def test_the_async_client_does_the_same(tmp_path: Path) -> None:
    api = FakeAPI()
    api.log = [(1, "job_1", "job.processing"), (2, "job_1", "asset.stored")]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/jobs/job_nope":
            return httpx.Response(404, json={"error": "not_found"})
        if request.url.path == "/v1/jobs/job_1" and api.streams:
            api.decide("job_1", 2, "asset.stored", ASSET)
        return api(request)

    async def run() -> tuple[Job, bytes]:
        transport = httpx.MockTransport(handler)
        async with AsyncClient(BASE, TOKEN, transport=transport) as client:
            job = await client.wait("job_1", timeout=10)
            saved = await client.download(job, tmp_path)
            with pytest.raises(NotFound, match="no job 'job_nope'"):
                await client.get("job_nope")
            return job, saved.path.read_bytes()

    job, data = asyncio.run(run())
    assert job.stored
    assert data == VIDEO
    stream = next(r for r in api.requests if r.url.path == "/v1/events")
    assert stream.headers["last-event-id"] == "0"


def test_a_receiver_that_stays_away_ends_the_stream_with_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    started = time.monotonic()
    with (
        Client(BASE, TOKEN, reconnect_limit=1.0, transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(Unreachable, match="failing for"),
    ):
        next(iter(client.events()))
    assert time.monotonic() - started < 5
    # Not silent meanwhile: each try is logged.
    assert "event stream broke (ConnectError: refused)" in caplog.text
