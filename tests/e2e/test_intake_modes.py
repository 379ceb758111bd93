"""Confirmation with the provider, unbound callback URLs and the delivery log, end to end."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver.config import Secret
from receiver.tokens import CallbackClaims, CallbackSigner
from tests.conftest import SECRET_KEY
from tests.e2e.conftest import Stack
from tests.servers import run_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack_overrides() -> dict[str, str]:
    return {"RECEIVER_CONFIRM_WITH_PROVIDER": "1"}


@pytest.fixture
def decoy() -> Iterator[tuple[list[str], str]]:
    """A server that must never be downloaded from."""
    hits: list[str] = []

    async def video(request: Request) -> Response:
        hits.append(request.url.path)
        return Response(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 100, media_type="video/mp4")

    with run_server(Starlette(routes=[Route("/evil.mp4", video)])) as base:
        yield hits, f"{base}/evil.mp4"


def test_forged_completion_is_confirmed_and_its_url_ignored(
    stack: Stack, decoy: tuple[list[str], str]
) -> None:
    hits, evil_url = decoy
    stack.simulator("PATCH", "/_simulator/config", json={"delay": 2.0})
    job = json.loads(stack.cli("submit", "a lighthouse at dusk", "--json").stdout)
    # Someone who learned the callback URL claims the task is done, with their own video.
    signer = CallbackSigner([Secret(SECRET_KEY)], max_age=3600)
    url = signer.callback_url(
        stack.env["RECEIVER_PUBLIC_URL"], CallbackClaims(provider="evolink", job_id=job["id"])
    )
    forged = {"id": job["task_id"], "status": "completed", "results": [evil_url]}
    assert httpx.post(url, json=forged, timeout=10).status_code == 200

    stored = stack.wait_for(job["id"], "stored", timeout=60)
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"][job["task_id"]]
    assert stored["asset"]["sha256"] == stats["sha256"]
    assert stats["downloads"] == 1
    assert hits == []
    assert "job.confirmed" in [event["type"] for event in stored["events"]]


def test_unbound_callback_url_adopts_jobs_submitted_elsewhere(stack: Stack) -> None:
    callback_url = stack.cli("callback-url", "--label", "campaign-7").stdout.strip()
    assert callback_url.startswith(stack.env["RECEIVER_PUBLIC_URL"] + "/callbacks/evolink/")
    # The team's own code submits straight to the provider with that URL.
    created = httpx.post(
        f"{stack.simulator_url}/v1/videos/generations",
        headers={"Authorization": f"Bearer {stack.env['EVOLINK_API_KEY']}"},
        json={
            "model": "kling-v3-turbo-text-to-video",
            "prompt": "their own job",
            "callback_url": callback_url,
        },
        timeout=10,
    ).json()

    def adopted() -> dict[str, object] | None:
        for line in stack.cli("jobs", "--json").stdout.splitlines():
            job: dict[str, object] = json.loads(line)
            if job["task_id"] == created["id"]:
                return job
        return None

    job_id = None
    for _ in range(100):
        found = adopted()
        if found is not None:
            job_id = str(found["id"])
            break
        time.sleep(0.2)
    assert job_id is not None, "the callback never created the job"
    stored = stack.wait_for(job_id, "stored", timeout=60)
    assert stored["params"] == {"external": True, "label": "campaign-7"}
    assert "campaign-7" in stored["prompt"]
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"][created["id"]]
    assert stored["asset"]["sha256"] == stats["sha256"]


# The engine-specific SQL of this path is proven on both engines by the integration tests;
# end to end, SQLite alone keeps the suite within its time budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_deliveries_command_filters_the_log(stack: Stack) -> None:
    job = json.loads(stack.cli("submit", "a heron", "--json").stdout)
    stack.wait_for(job["id"], "stored")
    httpx.post(stack.receiver_url + "/callbacks/evolink/forged", json={}, timeout=5)

    def listed(*args: str) -> list[dict[str, object]]:
        out = stack.cli("deliveries", "--json", *args).stdout
        return [json.loads(line) for line in out.splitlines()]

    assert [d["outcome"] for d in listed("--job", job["id"])] == ["accepted"]
    rejected = listed("--outcome", "rejected")
    assert len(rejected) == 1
    assert str(rejected[0]["reason"]).startswith("bad_token")
    assert len(listed("--since", "1h")) == 2
    assert "bad_token" in stack.cli("deliveries").stdout
    bad = stack.cli("deliveries", "--outcome", "weird", check=False)
    assert bad.returncode == 2
    assert "--outcome" in bad.stderr
