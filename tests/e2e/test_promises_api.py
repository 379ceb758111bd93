"""Promises of the HTTP API, the callback intake and the gallery, proven over HTTP.

The receiver talks to the provider through a :class:`~tests.e2e.promise_tools.Relay` in
front of the simulator, so the tests see what the receiver asked and when, and can answer
in the provider's place (a 402, a 429 with ``Retry-After``, a task API that hangs).

- ``POST /v1/jobs`` answers 402/429/502 for the provider's refusals and 503 for a missing
  setting; ``GET /v1/jobs`` filters by ``model`` and ``since``; ``GET /v1/jobs/{id}`` is
  ``receiver show --json``; the job's and the asset's timings are recorded; video links live
  ``RECEIVER_PRESIGN_EXPIRY``; ``/v1/events?after=`` resumes like ``Last-Event-ID`` and an
  idle stream carries a comment every 15 s; the gallery needs nothing from another origin.
- Error answers of the callback route carry their ``delivery_id``; a stored body is cut at
  64 KiB with its full size recorded; no callback answer waits on the network (the provider
  and the video host hanging); adoption through an unbound URL is race-free and always
  confirmed with the provider (429 honoured; another status or an unknown task fails the
  archive and flags the job, and ``receiver retry`` leaves it flagged).
- In a browser: the gallery's filters, its retry button and its replay button.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shutil
import sqlite3
import ssl
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from botocore.config import Config
from playwright.sync_api import sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.e2e.conftest import ADMIN_TOKEN, Stack
from tests.e2e.promise_tools import (
    AUTH,
    Relay,
    api_job,
    await_job,
    bound_callback_url,
    relay,
    submit,
    wait_until,
)
from tests.e2e.test_https import Caddy, caddy, https_port  # noqa: F401 (fixtures)
from tests.servers import run_server

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: As tests/e2e/test_gallery.py: headless Chromium kept off Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CREATE = r"^/v1/videos/generations$"


@pytest.fixture
def provider() -> Iterator[Relay]:
    """The provider as the receiver reaches it: the simulator, through a relay."""
    with relay() as hop:
        yield hop


@pytest.fixture
def stack_overrides(provider: Relay) -> dict[str, str]:
    return {"EVOLINK_BASE_URL": provider.url}


def _api(stack: Stack, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, f"{stack.receiver_url}{path}", headers=AUTH, timeout=30, **kwargs)


def _s3(stack: Stack) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=stack.env["RECEIVER_S3_ENDPOINT_URL"],
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )


def _database(stack: Stack) -> sqlite3.Connection:
    """The metadata database, read-only (what an operator's ``sqlite3`` shell sees)."""
    path = stack.env["RECEIVER_DATABASE_URL"].removeprefix("sqlite:///")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _events(stack: Stack, count: int, params: dict[str, str], headers: dict[str, str]) -> list[int]:
    """The ids of the first ``count`` events the stream sends."""
    ids: list[int] = []
    with httpx.stream(
        "GET",
        f"{stack.receiver_url}/v1/events",
        params=params,
        headers={**AUTH, **headers},
        timeout=httpx.Timeout(10, read=10),
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("id:"):
                ids.append(int(line[3:]))
                if len(ids) == count:
                    break
    return ids


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in {"src", "href"} and value]


def _keep_alive(stack: Stack, heard: list[float]) -> None:
    """Follow an idle stream; note when each line arrives, until a keep-alive comment."""
    started = time.monotonic()
    try:
        with httpx.stream(
            "GET",
            f"{stack.receiver_url}/v1/events",
            # Only events after one that will not exist in this test: an idle stream.
            params={"after": "1000000000"},
            headers=AUTH,
            timeout=httpx.Timeout(10, read=30),
        ) as response:
            heard.append(float(response.status_code))
            for line in response.iter_lines():
                heard.append(time.monotonic() - started)
                if line.startswith(": keep-alive"):
                    return
    except httpx.HTTPError as exc:
        heard.append(-1.0)
        raise AssertionError(str(exc)) from exc


def test_jobs_api_video_links_event_stream_and_gallery(stack: Stack, provider: Relay) -> None:
    provider.target = stack.simulator_url
    heard: list[float] = []
    idle = threading.Thread(target=_keep_alive, args=(stack, heard), daemon=True)
    idle.start()

    # The provider's refusals and a missing setting, as POST /v1/jobs answers them.
    quota = {"error": {"code": "insufficient_quota", "message": "top up", "type": "quota"}}
    provider.answer("POST", CREATE, 402, body=quota)
    refused = _api(stack, "POST", "/v1/jobs", json={"prompt": "A fox"})
    assert (refused.status_code, refused.json()["error"]) == (402, "provider_quota")
    stack.simulator("PATCH", "/_simulator/config", json={"rate_limit_next": 1})
    limited = _api(stack, "POST", "/v1/jobs", json={"prompt": "A fox"})
    assert (limited.status_code, limited.json()["error"]) == (429, "provider_rate_limited")
    assert limited.headers["retry-after"] == "1"
    provider.answer("POST", CREATE, 500, body={"error": {"message": "down"}})
    broken = _api(stack, "POST", "/v1/jobs", json={"prompt": "A fox"})
    assert (broken.status_code, broken.json()["error"]) == (502, "provider_error")
    unset = _api(stack, "POST", "/v1/jobs", json={"prompt": "A fox", "provider": "kling"})
    assert (unset.status_code, unset.json()["error"]) == (503, "not_configured")
    assert "KLING_" in unset.json()["message"]

    # Two jobs, on two models, a few seconds apart.
    created = _api(
        stack, "POST", "/v1/jobs", json={"prompt": "A heron", "model": "kling-v3-text-to-video"}
    )
    assert created.status_code == 201, created.text
    older = created.json()["id"]
    older_at = time.monotonic()
    await_job(stack, older, "stored")
    wait_until(lambda: time.monotonic() - older_at > 3, "a gap of 3 s", 10)
    again = _api(stack, "POST", "/v1/jobs", json={"prompt": "A heron, again"})
    assert again.status_code == 201, again.text
    newer = again.json()["id"]
    assert [j["id"] for j in _api(stack, "GET", "/v1/jobs?since=2s").json()["jobs"]] == [newer]
    by_model = _api(stack, "GET", "/v1/jobs?model=kling-v3-text-to-video").json()["jobs"]
    assert [j["id"] for j in by_model] == [older]
    turbo = _api(stack, "GET", "/v1/jobs?model=kling-v3-turbo-text-to-video").json()["jobs"]
    assert newer in [j["id"] for j in turbo]
    assert older not in [j["id"] for j in turbo]
    job = await_job(stack, newer, "stored")

    # GET /v1/jobs/{id} is the document `receiver show --json` prints.
    shown = json.loads(stack.cli("show", newer, "--json").stdout)
    assert shown["status"] == "stored"
    assert _api(stack, "GET", f"/v1/jobs/{newer}").json() == shown
    # The timings, on the job and on the asset (the ETag is the store's own).
    moments = [job[name] for name in ("created_at", "submitted_at", "finished_at", "stored_at")]
    assert all(moments)
    assert moments == sorted(moments)
    asset = job["asset"]
    assert asset["content_type"] == "video/mp4"
    assert asset["stored_at"] >= job["finished_at"]
    with _database(stack) as db:
        (etag,) = db.execute("SELECT etag FROM assets WHERE job_id = ?", (newer,)).fetchone()
    assert etag == _s3(stack).head_object(Bucket=asset["bucket"], Key=asset["key"])["ETag"]

    # The video link lives RECEIVER_PRESIGN_EXPIRY (1 h by default) and serves the video.
    asked = time.time()
    redirect = _api(stack, "GET", f"/v1/jobs/{newer}/video", follow_redirects=False)
    assert redirect.status_code == 302
    link = redirect.headers["location"]
    query = parse_qs(urlsplit(link).query)
    if "X-Amz-Expires" in query:
        assert query["X-Amz-Expires"] == ["3600"]
    else:
        assert math.isclose(int(query["Expires"][0]) - asked, 3600, abs_tol=5)
    video = httpx.get(link, timeout=30)
    assert hashlib.sha256(video.content).hexdigest() == asset["sha256"]

    # ?after= resumes the stream like Last-Event-ID.
    seqs = [event["seq"] for event in job["events"]]
    rest = len(seqs) - 2
    after = _events(stack, rest, {"job": newer, "after": str(seqs[1])}, {})
    assert after == seqs[2:]
    resumed = _events(stack, rest, {"job": newer}, {"Last-Event-ID": str(seqs[1])})
    assert resumed == seqs[2:]

    # The gallery needs nothing but what the app serves under /static/.
    with httpx.Client(base_url=stack.receiver_url, timeout=10) as browser:
        signed_in = browser.post("/login", data={"token": ADMIN_TOKEN})
        assert signed_in.status_code == 303
        # The session cookie: HttpOnly, SameSite=Strict, 12 hours, Secure only over https.
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        assert "max-age=43200" in cookie
        assert "secure" not in cookie.replace("httponly", "")
        over_https = httpx.post(
            f"{stack.receiver_url}/login",
            data={"token": ADMIN_TOKEN},
            headers={"X-Forwarded-Proto": "https"},
            timeout=10,
        )
        assert "; secure" in over_https.headers["set-cookie"].lower()
        # A cookie changed by the client is no session.
        name, _, value = signed_in.headers["set-cookie"].split(";")[0].partition("=")
        forged = value[:-1] + ("A" if value[-1] != "A" else "B")
        refused = httpx.get(stack.receiver_url, cookies={name: forged}, timeout=10)
        assert 'name="token"' in refused.text
        page = browser.get("/")
        assert 'id="jobs"' in page.text
        parser = _Links()
        parser.feed(page.text)
        assert {"/static/gallery.css", "/static/gallery.js"} <= set(parser.links)
        for link in parser.links:
            assert link.startswith("/"), link
            assert not link.startswith("//"), link
            served = browser.get(link)
            assert served.status_code == 200
            assert not re.search(r"https?://|[\"'(=]\s*//", served.text), link

    # In a browser, while that idle stream waits: the gallery's filters, a failed archive's
    # retry button and a rejected delivery's replay button.
    _gallery(stack, provider, stored=newer)

    # An idle stream carries a comment line every 15 s.
    idle.join(timeout=25)
    assert not idle.is_alive(), f"no keep-alive comment on an idle stream within 25 s: {heard}"
    status, connected, *_, keep_alive = heard
    assert (status, connected < 2) == (200, True), heard
    assert 14 < keep_alive < 20, heard


def _adopt(url: str, task_id: str, video: str) -> httpx.Response:
    body = {"id": task_id, "status": "completed", "results": [video]}
    return httpx.post(url, json=body, timeout=10)


def _their_task(stack: Stack, prompt: str) -> str:
    """A task the team's own code created at the provider, with no callback URL."""
    created = stack.simulator(
        "POST",
        "/v1/videos/generations",
        headers={"Authorization": f"Bearer {stack.env['EVOLINK_API_KEY']}"},
        json={"model": "kling-v3-turbo-text-to-video", "prompt": prompt},
    )
    task_id = str(created["id"])

    def done() -> bool:
        status = stack.simulator("GET", "/_simulator/stats")["tasks"][task_id]["status"]
        return status in {"completed", "failed"}

    wait_until(done, f"task {task_id} to end")
    return task_id


def _adopted(stack: Stack, task_id: str) -> list[dict[str, Any]]:
    jobs = _api(stack, "GET", "/v1/jobs?limit=200").json()["jobs"]
    return [job for job in jobs if job["task_id"] == task_id]


def _attention(stack: Stack) -> dict[str, str]:
    out = stack.cli("jobs", "--needs-attention", "--json").stdout
    rows = [json.loads(line) for line in out.splitlines()]
    return {row["id"]: row["reason"] for row in rows if row["kind"] == "job"}


@pytest.fixture
def decoy() -> Iterator[tuple[list[str], str]]:
    """A video host that must never be downloaded from."""
    hits: list[str] = []

    async def video(request: Request) -> Response:
        hits.append(request.url.path)
        return Response(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100, media_type="video/mp4")

    with run_server(Starlette(routes=[Route("/forged.mp4", video)])) as base:
        yield hits, f"{base}/forged.mp4"


def test_callback_answers_adoption_and_confirmation(
    stack: Stack, provider: Relay, decoy: tuple[list[str], str], request: pytest.FixtureRequest
) -> None:
    proxy: Caddy = request.getfixturevalue("caddy")
    provider.target = stack.simulator_url
    hits, forged = decoy
    route = f"{stack.receiver_url}/callbacks/evolink"
    unbound = stack.cli("callback-url", "--label", "their-code").stdout.strip()

    # Behind Caddy (the production site block), a body over 1 MiB is refused (Caddy 2.6
    # answers 502), and the receiver still logs the rejected delivery (its length declared).
    context = ssl.create_default_context(cafile=str(proxy.root_ca))
    path = urlsplit(unbound).path
    huge = b"{" + b" " * (2 << 20) + b"}"
    try:
        through = httpx.post(
            f"{proxy.url}{path}",
            content=huge,
            headers={"content-type": "application/json"},
            verify=context,
            timeout=30,
        )
        refused = through.status_code
    except httpx.RemoteProtocolError:
        # Caddy 2.6 sometimes closes the connection after the head of its 502 (the same
        # bug, caddyserver/caddy#5652): refused all the same.
        refused = 502
    assert refused in {413, 502}
    logged = stack.cli("deliveries", "--outcome", "rejected", "--json").stdout.splitlines()
    assert [d["reason"].split(":")[0] for d in map(json.loads, logged)] == ["too_large"]

    # Every error answer names its delivery, as the delivery log knows it.
    answers = [
        httpx.post(f"{route}/not-ours", json={}, timeout=10),
        httpx.post(f"{route}/not-ours", content=b"{", timeout=10),
        httpx.post(f"{route}/not-ours", content=b"x", headers={"content-type": "text/plain"}),
    ]
    assert [a.status_code for a in answers] == [403, 403, 415]
    ids = [a.json()["delivery_id"] for a in answers]
    assert all(i.startswith("dlv_") for i in ids)
    logged = stack.cli("deliveries", "--outcome", "rejected", "--json").stdout.splitlines()
    assert set(ids) <= {json.loads(line)["id"] for line in logged}

    # A body over 64 KiB (on a URL of ours, so it is kept) is kept up to 64 KiB, its full
    # size recorded.
    big = json.dumps({"pad": "x" * 100_000}).encode()
    cut = httpx.post(unbound, content=big, headers={"content-type": "application/json"})
    assert cut.status_code == 400
    cut_id = cut.json()["delivery_id"]
    logged = stack.cli("deliveries", "--outcome", "rejected", "--json").stdout.splitlines()
    assert {d["id"]: d["body_size"] for d in map(json.loads, logged)}[cut_id] == len(big)
    with _database(stack) as db:
        (kept,) = db.execute("SELECT length(body) FROM deliveries WHERE id = ?", (cut_id,))
    assert kept == (64 * 1024,)
    # Twelve copies of one completed callback at once on an unbound URL: one job.
    theirs = _their_task(stack, "Their own heron")
    error = {"error": {"code": "rate_limit_exceeded", "message": "slow down", "type": "rate"}}
    provider.answer("GET", f"^/v1/tasks/{theirs}$", 429, body=error, headers={"Retry-After": "3"})
    with ThreadPoolExecutor(12) as pool:
        race = list(pool.map(lambda _: _adopt(unbound, theirs, forged), range(12)))
    assert [r.status_code for r in race] == [200] * 12
    assert sorted(r.json()["outcome"] for r in race) == ["accepted"] + ["duplicate"] * 11
    (adopted,) = _adopted(stack, theirs)
    # Confirmed with the provider (its 429 waited out), downloaded from its answer only.
    job = await_job(stack, adopted["id"], "stored")
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"][theirs]
    assert job["asset"]["sha256"] == stats["sha256"]
    assert stats["downloads"] == 1
    assert hits == []
    asked = provider.requests("GET", f"^/v1/tasks/{theirs}$")
    assert [a.status for a in asked] == [429, 200]
    assert asked[1].started - asked[0].started >= 3

    # Confirmation that finds another status, or no such task, fails the archive and flags
    # the job; `receiver retry` asks again and leaves it flagged with its reason.
    failed_task = _their_task(stack, "Their failed heron [sim:fail]")
    assert _adopt(unbound, failed_task, forged).json()["outcome"] == "accepted"
    assert _adopt(unbound, "task-unified-1-nosuchtask", forged).json()["outcome"] == "accepted"
    (other,) = _adopted(stack, failed_task)
    (unknown,) = _adopted(stack, "task-unified-1-nosuchtask")
    wait_until(
        lambda: (
            api_job(stack, other["id"])["attention"] and api_job(stack, unknown["id"])["attention"]
        ),
        "both archives to fail",
    )
    reasons = _attention(stack)
    assert "it reports 'failed'" in reasons[other["id"]]
    assert "does not know task task-unified-1-nosuchtask" in reasons[unknown["id"]]
    assert hits == []
    lookups = len(provider.requests("GET", "^/v1/tasks/task-unified-1-nosuchtask$"))
    assert stack.cli("retry", unknown["id"]).stdout.strip() == f"queued  {unknown['id']}"
    wait_until(
        lambda: len(provider.requests("GET", "^/v1/tasks/task-unified-1-nosuchtask$")) > lookups,
        "the retry to ask the provider again",
    )

    def failed_twice() -> bool:
        types = [e["type"] for e in api_job(stack, unknown["id"])["events"]]
        return types.count("archive.failed") == 2

    wait_until(failed_twice, "the retried archive to fail again")
    assert "does not know task" in _attention(stack)[unknown["id"]]

    # With the provider's task API and the video host both hanging, callbacks are still
    # answered at once: the request path never waits on the network.
    hanging = f"{provider.url}/videos/hanging.mp4"
    provider.hold(r"^/v1/tasks/|^/videos/hanging")
    pending = _their_task(stack, "Their heron, held")
    assert _adopt(unbound, pending, forged).json()["outcome"] == "accepted"
    wait_until(
        lambda: any(s.ended is None for s in provider.requests("GET", "^/v1/tasks/")),
        "the worker to be stuck asking the provider",
    )
    stack.simulator("PATCH", "/_simulator/config", json={"delay": 120})
    ours = submit(stack, "Our heron")
    ours_task = api_job(stack, ours)["task_id"]
    later = _their_task_now(stack)
    accepted = httpx.post(
        bound_callback_url(stack, ours),
        json={"id": ours_task, "status": "completed", "results": [hanging]},
        timeout=10,
    )
    assert accepted.json()["outcome"] == "accepted"
    wait_until(
        lambda: any(s.ended is None for s in provider.requests("GET", "^/videos/hanging")),
        "the worker to be stuck downloading",
    )
    quick = [accepted, _adopt(unbound, later, forged), _adopt(unbound, pending, forged)]
    assert [r.json()["outcome"] for r in quick] == ["accepted", "accepted", "duplicate"]
    assert max(r.elapsed.total_seconds() for r in quick) < 2
    provider.let_go()
    await_job(stack, _adopted(stack, pending)[0]["id"], "stored")


def _their_task_now(stack: Stack) -> str:
    """A task the team's own code created, not waited for."""
    created = stack.simulator(
        "POST",
        "/v1/videos/generations",
        headers={"Authorization": f"Bearer {stack.env['EVOLINK_API_KEY']}"},
        json={"model": "kling-v3-turbo-text-to-video", "prompt": "Their heron, late"},
    )
    return str(created["id"])


def _gallery(stack: Stack, provider: Relay, *, stored: str) -> None:
    # A job adopted through an unbound URL whose archive fails at once: the provider says
    # (this once) that it does not know the task.
    unbound = stack.cli("callback-url", "--label", "their lighthouse").stdout.strip()
    theirs = _their_task(stack, "Their lighthouse at night")
    provider.answer("GET", f"^/v1/tasks/{theirs}$", 404, body={"error": {"code": "not_found"}})
    assert _adopt(unbound, theirs, f"{stack.simulator_url}/nowhere.mp4").status_code == 200
    (failing,) = _adopted(stack, theirs)
    wait_until(lambda: api_job(stack, failing["id"])["attention"], "its archive to fail")
    # A delivery rejected while naming the stored job: its token, another task.
    mismatch = {"id": "task-unified-0-notthisone", "status": "completed"}
    rejected = httpx.post(bound_callback_url(stack, stored), json=mismatch, timeout=10)
    assert rejected.status_code == 409

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(stack.receiver_url)
            page.fill("input[name=token]", ADMIN_TOKEN)
            page.click("button[type=submit]")
            lighthouse = page.locator(f"[id='{failing['id']}']")
            heron = page.locator(f"[id='{stored}']")
            heron.wait_for()
            lighthouse.wait_for()

            page.fill("#search", "heron, again")
            lighthouse.wait_for(state="hidden")
            assert heron.is_visible()
            page.fill("#search", "")
            page.select_option("#status", "stored")
            lighthouse.wait_for(state="hidden")
            assert heron.is_visible()
            page.select_option("#status", "")
            lighthouse.wait_for()

            # The rejected delivery has its replay button, which replays it and says how.
            heron.locator(".deliveries summary").click()
            heron.get_by_role("button", name="Replay").click()
            verdict = heron.locator(".verdict", has_text="Replayed")
            verdict.wait_for()
            assert "still failing" in verdict.inner_text()

            # The retry button queues the failed archive again; the video then plays there.
            lighthouse.get_by_role("button", name="Retry archive").click()
            lighthouse.locator("video").wait_for(timeout=60_000)
        finally:
            browser.close()
    assert api_job(stack, failing["id"])["status"] == "stored"
