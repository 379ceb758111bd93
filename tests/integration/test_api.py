"""The admin API: bearer auth, and replays over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from receiver.config import Settings
from receiver.context import Context
from receiver.intake import IncomingDelivery, ingest
from receiver.providers import evolink_protocol
from receiver.runtime import web_app
from receiver.tokens import CallbackClaims
from tests.conftest import make_env, run_sql
from tests.factories import make_job
from tests.integration.test_intake import body
from tests.servers import run_server

pytestmark = pytest.mark.integration

TOKEN = "admin-token-for-tests-0123456789"


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[tuple[Context, httpx.Client]]:
    env = make_env(tmp_path, RECEIVER_DATABASE_URL=database_url, RECEIVER_ADMIN_TOKEN=TOKEN)
    with (
        Context(Settings.from_env(env)) as ctx,
        run_server(web_app(ctx, archive=False)) as base,
        httpx.Client(base_url=base, timeout=10) as client,
    ):
        yield ctx, client


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_route_needs_the_admin_token(api: tuple[Context, httpx.Client]) -> None:
    _ctx, client = api
    for path in ("/v1/deliveries/replay", "/v1/deliveries/dlv_x/replay"):
        assert client.post(path).status_code == 401
        assert client.post(path, headers=auth("wrong")).status_code == 401
        assert client.post(path, headers={"Authorization": TOKEN}).status_code == 401
    response = client.post("/v1/deliveries/replay", headers=auth())
    assert response.status_code == 200


def test_without_an_admin_token_the_api_is_off(tmp_path: Path, database_url: str) -> None:
    settings = Settings.from_env(make_env(tmp_path, RECEIVER_DATABASE_URL=database_url))
    with Context(settings) as ctx, run_server(web_app(ctx, archive=False)) as base:
        response = httpx.post(f"{base}/v1/deliveries/replay", headers=auth(), timeout=10)
    assert response.status_code == 401
    assert "RECEIVER_ADMIN_TOKEN" in response.json()["message"]


def test_replay_over_http(api: tuple[Context, httpx.Client]) -> None:
    ctx, client = api
    job_id = make_job(ctx.db)
    result = ingest(
        ctx.db,
        job_id,
        evolink_protocol.parse_task_json(body()),
        IncomingDelivery(provider="evolink", body=body()),
    )
    run_sql(ctx.db, "UPDATE archive_tasks SET state = 'failed'")

    assert client.post("/v1/deliveries/dlv_nope/replay", headers=auth()).status_code == 404
    dry = client.post("/v1/deliveries/replay", headers=auth(), json={"dry_run": True})
    assert dry.json() == {"dry_run": True, "deliveries": [result.delivery_id]}
    bad = client.post("/v1/deliveries/replay", headers=auth(), json={"since": "soon"})
    assert bad.status_code == 400
    done = client.post("/v1/deliveries/replay", headers=auth(), json={"job_id": job_id})
    assert done.json() == {"replayed": 1, "already_done": 0, "still_failing": []}
    again = client.post(f"/v1/deliveries/{result.delivery_id}/replay", headers=auth())
    assert again.json()["verdict"] == "already_done"


def test_metrics_count_callbacks_and_show_the_queue(api: tuple[Context, httpx.Client]) -> None:
    ctx, client = api

    def sample(text: str, name: str) -> float:
        # A sample line is "<name>{labels} <value>" or "<name> <value>".
        for line in text.splitlines():
            if line.rsplit(" ", 1)[0] == name:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    accepted = 'receiver_callbacks_total{outcome="accepted",source="callback"}'
    before = sample(client.get("/metrics").text, accepted)
    job_id = make_job(ctx.db)
    signer_url = ctx.signer.callback_url(
        "http://x", CallbackClaims(provider="evolink", job_id=job_id)
    )
    path = signer_url.removeprefix("http://x")
    assert (
        client.post(path, content=body(), headers={"content-type": "application/json"}).json()[
            "outcome"
        ]
        == "accepted"
    )
    text = client.get("/metrics").text
    assert sample(text, accepted) == before + 1
    assert sample(text, 'receiver_archive_queue_depth{state="queued"}') == 1
    margin = sample(text, "receiver_archive_min_deadline_margin_seconds")
    assert 23 * 3600 < margin <= 24 * 3600


def read_events(client: httpx.Client, count: int, **headers: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    with client.stream("GET", "/v1/events", headers={**auth(), **headers}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                found.append(json.loads(line[5:]))
                if len(found) == count:
                    break
    return found


def test_the_event_stream_resumes_without_missing_anything(
    api: tuple[Context, httpx.Client],
) -> None:
    ctx, client = api
    jobs = [make_job(ctx.db, task_id=f"task-{n}") for n in range(3)]
    for job_id in jobs:  # job.processing then job.completed for each: six events
        for status in ("processing", "completed"):
            raw = body(task_id=f"task-{jobs.index(job_id)}", status=status)
            ingest(
                ctx.db,
                job_id,
                evolink_protocol.parse_task_json(raw),
                IncomingDelivery(provider="evolink", body=raw),
            )
    first = read_events(client, 2)
    rest = read_events(client, 4, **{"Last-Event-ID": str(first[-1]["seq"])})
    seqs = [int(str(event["seq"])) for event in first + rest]
    assert seqs == list(range(seqs[0], seqs[0] + 6))
    assert [event["type"] for event in first + rest][:2] == ["job.processing", "job.completed"]
    from_start = read_events(client, 2, **{"Last-Event-ID": "0"})
    assert {event["job_id"] for event in from_start} == {jobs[0]}
    only_last = []
    with client.stream("GET", "/v1/events", params={"job": jobs[2]}, headers=auth()) as response:
        for line in response.iter_lines():
            if line.startswith("data:"):
                only_last.append(json.loads(line[5:]))
                if len(only_last) == 2:
                    break
    assert {event["job_id"] for event in only_last} == {jobs[2]}


def test_the_openapi_description_is_served(api: tuple[Context, httpx.Client]) -> None:
    _ctx, client = api
    document = client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert "/v1/jobs/{job_id}/video" in document["paths"]
