"""The HTTP API keeps its contract over real HTTP: every error is JSON with the right status,
query parameters are checked rather than guessed, the job list counts what it filters, and
the OpenAPI document names every route the app serves (and is the copy in docs/)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Mount, Route

from receiver import clock
from receiver.config import Settings
from receiver.context import Context
from receiver.runtime import web_app
from receiver.web.body_limit import body_limit
from tests.conftest import make_env, run_sql
from tests.factories import make_job
from tests.integration.test_intake import body, deliver
from tests.servers import run_server

pytestmark = pytest.mark.integration

TOKEN = "admin-token-for-tests-0123456789"
DOCS = Path(__file__).parents[2] / "docs" / "openapi.json"


@pytest.fixture
def api(tmp_path: Path, database_url: str) -> Iterator[tuple[Context, httpx.Client]]:
    env = make_env(tmp_path, RECEIVER_DATABASE_URL=database_url, RECEIVER_ADMIN_TOKEN=TOKEN)
    with (
        Context(Settings.from_env(env)) as ctx,
        run_server(web_app(ctx, archive=False)) as base,
        httpx.Client(
            base_url=base, timeout=10, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client,
    ):
        yield ctx, client


def assert_error(response: httpx.Response, status: int, error: str) -> dict[str, Any]:
    """The answer is the app's error shape, with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    assert document["error"] == error
    assert isinstance(document["message"], str)
    assert set(document) <= {"error", "message", "field"}
    return document


def test_every_route_is_in_the_served_document_and_it_is_the_published_one(
    api: tuple[Context, httpx.Client],
) -> None:
    ctx, client = api
    served = client.get("/openapi.json").json()
    assert served == json.loads(DOCS.read_text()), (
        "docs/openapi.json is stale: python -m receiver.web.openapi > docs/openapi.json"
    )
    documented = {
        (path, method)
        for path, operations in served["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    routed: set[tuple[str, str]] = set()
    for route in web_app(ctx, archive=False).routes:
        if isinstance(route, Route):
            assert route.methods is not None, route.path
            # Starlette adds HEAD to every GET: the document says so once, in its info.
            routed |= {(route.path_format, m.lower()) for m in route.methods - {"HEAD"}}
        elif isinstance(route, Mount):  # the gallery's static files
            routed.add((route.path_format, "get"))
        else:
            raise AssertionError(f"a route of a kind the test does not know: {route!r}")
    # The callback route is served in front of the router (receiver/web/callbacks.py).
    routed.add(("/callbacks/{provider}/{token}", "post"))
    assert routed == documented
    assert "HEAD" in served["info"]["description"]
    assert "/v1/jobs/{job_id}/retry" in served["paths"]
    assert client.head("/healthz").status_code == 200
    callback = client.post("/callbacks/evolink/not-a-token", json={})
    assert (callback.status_code, callback.json()["error"]) == (403, "bad_token")


def test_unknown_paths_methods_and_bodies_answer_json(api: tuple[Context, httpx.Client]) -> None:
    ctx, client = api
    assert_error(client.get("/nope"), 404, "not_found")
    assert_error(client.get("/static/nope.css"), 404, "not_found")
    # /v1/jobs is two routes (GET and POST): Allow names both.
    wrong = assert_error(client.put("/v1/jobs"), 405, "method_not_allowed")
    assert "GET, HEAD, POST" in wrong["message"]
    assert client.put("/v1/jobs").headers["allow"] == "GET, HEAD, POST"
    assert client.get("/v1/jobs/job_x/retry").headers["allow"] == "POST"
    assert_error(client.delete("/static/gallery.css"), 405, "method_not_allowed")
    assert client.delete("/static/gallery.css").headers["allow"] == "GET, HEAD"
    assert_error(client.get("/v1/jobs/job_nope"), 404, "not_found")

    # Bodies over the limit (room for a job with its first frame): declared, or streamed
    # without a length (refused once it grows past it).
    limit = body_limit(ctx.settings)
    assert limit >= ctx.settings.max_body_bytes
    too_big = b"x" * (limit + 1)
    assert_error(client.post("/v1/jobs", content=too_big), 413, "too_large")

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    assert_error(client.post("/v1/deliveries/replay", content=chunks()), 413, "too_large")
    assert_error(client.post("/v1/jobs", content=b"{prompt"), 400, "bad_request")
    # A quoted "false" is not false: refused rather than taken for a dry run.
    refused = assert_error(
        client.post("/v1/deliveries/replay", json={"dry_run": "false"}), 400, "bad_request"
    )
    assert refused["field"] == "dry_run"
    assert_error(client.post("/v1/deliveries/replay", json={"since": 5}), 400, "bad_request")


def test_credentials_are_refused_in_json(api: tuple[Context, httpx.Client]) -> None:
    ctx, client = api
    anonymous = httpx.Client(base_url=str(client.base_url), timeout=10)
    with anonymous:
        assert_error(anonymous.get("/v1/jobs"), 401, "unauthorized")
        assert_error(anonymous.get("/v1/events"), 401, "unauthorized")
        signed_in = anonymous.post("/login", data={"token": TOKEN})
        assert signed_in.status_code == 303
        # The session cookie is enough to read; a change also needs the CSRF token.
        assert anonymous.get("/v1/jobs").status_code == 200
        job_id = make_job(ctx.db)
        assert_error(anonymous.post(f"/v1/jobs/{job_id}/retry"), 403, "csrf")


def test_bad_query_parameters_are_400s_that_name_them(api: tuple[Context, httpx.Client]) -> None:
    _ctx, client = api
    bad: dict[str, list[tuple[Any, str]]] = {
        "/v1/jobs": [
            ({"limit": "abc"}, "limit"),
            ({"limit": "-1"}, "limit"),
            ({"limit": "0"}, "limit"),
            ({"limit": "201"}, "limit"),
            ({"limit": "1.5"}, "limit"),
            ({"limit": "\u00b2"}, "limit"),
            ({"limit": "9" * 40}, "limit"),
            ({"status": "done"}, "status"),
            ({"since": "soon"}, "since"),
            ({"since": "99999999d"}, "since"),
            ({"cursor": "abc"}, "cursor"),
            ({"limt": "5"}, "limt"),
            ([("limit", "1"), ("limit", "2")], "limit"),
        ],
        "/v1/costs": [({"by": "colour"}, "by"), ({"since": "1e9d"}, "since"), ({"x": "1"}, "x")],
        "/v1/events": [
            ({"after": "abc"}, "after"),
            ({"after": "-1"}, "after"),
            ({"after": "\u00b2"}, "after"),
            ({"after": "9" * 30}, "after"),
            ({"jobs": "job_x"}, "jobs"),
        ],
    }
    for path, cases in bad.items():
        for params, field in cases:
            answer = client.get(path, params=params)
            document = assert_error(answer, 400, "bad_request")
            assert document["field"] == field, (path, params)
            assert "invalid literal" not in document["message"]
    for value in (b"-1", "\u0661".encode()):  # an Arabic-Indic one: str.isdigit() says yes
        header = client.get("/v1/events", headers={b"Last-Event-ID": value})
        assert assert_error(header, 400, "bad_request")["field"] == "Last-Event-ID"
    # An empty value is refused too (leave the parameter out instead).
    for name in ("status", "model", "since", "limit", "cursor"):
        empty = assert_error(client.get("/v1/jobs", params={name: ""}), 400, "bad_request")
        assert empty["field"] == name
    empty = assert_error(client.get("/v1/events", params={"job": ""}), 400, "bad_request")
    assert empty["field"] == "job"
    assert client.get("/v1/jobs", params={"limit": "200"}).is_success


def test_the_event_stream_of_an_unknown_job_is_a_404(api: tuple[Context, httpx.Client]) -> None:
    ctx, client = api
    # It used to stream forever: a short read timeout would fail the test instead.
    answer = client.get("/v1/events", params={"job": "job_nope"}, timeout=5)
    assert "job_nope" in assert_error(answer, 404, "not_found")["message"]
    job_id = make_job(ctx.db)
    deliver(ctx.db, job_id, body(status="processing"))
    with client.stream("GET", "/v1/events", params={"job": job_id}) as stream:
        assert stream.status_code == 200
        data = next(line for line in stream.iter_lines() if line.startswith("data:"))
    assert json.loads(data[5:])["job_id"] == job_id


def test_the_job_list_filters_pages_and_counts(api: tuple[Context, httpx.Client]) -> None:
    ctx, client = api
    ids = [make_job(ctx.db, task_id=f"task-{n}") for n in range(5)]
    run_sql(ctx.db, "UPDATE jobs SET model = 'other' WHERE id = :id", id=ids[0])
    old = clock.to_db(clock.now() - timedelta(days=3))
    run_sql(ctx.db, "UPDATE jobs SET created_at = :old WHERE id = :id", old=old, id=ids[1])
    deliver(ctx.db, ids[2], body(task_id="task-2", status="processing"))

    # Newest first is by id (jobs made within one millisecond sort at random among them).
    newest_first = sorted(ids, reverse=True)
    first = client.get("/v1/jobs", params={"limit": 2}).json()
    assert (first["total"], len(first["jobs"])) == (5, 2)
    assert [job["id"] for job in first["jobs"]] == newest_first[:2]
    second = client.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert second["total"] == 5
    assert [job["id"] for job in second["jobs"]] == newest_first[2:4]
    last = client.get("/v1/jobs", params={"limit": 2, "cursor": second["next_cursor"]}).json()
    assert ([job["id"] for job in last["jobs"]], last["next_cursor"]) == (newest_first[4:], None)

    def total(**params: str) -> int:
        answer = client.get("/v1/jobs", params=params)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["total"])

    assert total(model="other") == 1
    assert total(model="m") == 4
    assert total(since="1d") == 4
    assert total(since="1d", model="m") == 3
    assert total(status="processing") == 1
    assert total(status="pending", limit="1") == 4
    assert total(status="stored") == 0


def test_an_unexpected_failure_is_a_json_500_without_details(
    api: tuple[Context, httpx.Client],
) -> None:
    ctx, client = api
    run_sql(ctx.db, "ALTER TABLE events RENAME TO events_gone")
    try:
        answer = client.get("/v1/jobs")
        document = assert_error(answer, 500, "internal_error")
        for leak in ("Traceback", "events", "sqlite", "psycopg", "SELECT", ".py"):
            assert leak not in answer.text, leak
        assert document["message"].startswith("the server failed")
    finally:
        run_sql(ctx.db, "ALTER TABLE events_gone RENAME TO events")
