"""The callback route over real HTTP: limits, status codes, the delivery log, retention.

Includes the property-based test of the issue: random bodies, headers, content types and
tokens (valid tokens of other jobs, expired ones) never get a 5xx, never move a job without
its own valid token, and every request lands in the delivery log (while the budget for
rows about junk, RECEIVER_REJECTED_LOG_RATE, lasts).
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from receiver import clock
from receiver.config import Settings
from receiver.context import Context
from receiver.deliveries import purge_rejected
from receiver.runtime import web_app
from receiver.tokens import CallbackClaims
from tests.conftest import make_env, run_sql
from tests.factories import make_job
from tests.integration.test_intake import body
from tests.servers import run_server

pytestmark = pytest.mark.integration


class Route:
    def __init__(self, ctx: Context, base: str) -> None:
        self.ctx = ctx
        self.base = base
        self.http = httpx.Client(base_url=base, timeout=10)

    def url(self, job_id: str | None) -> str:
        token = self.ctx.signer.sign(CallbackClaims(provider="evolink", job_id=job_id))
        return f"/callbacks/evolink/{token}"

    def post(self, path: str, content: bytes, **headers: str) -> httpx.Response:
        headers.setdefault("content-type", "application/json")
        return self.http.post(path, content=content, headers=headers)

    def log(self) -> list[dict[str, Any]]:
        return run_sql(self.ctx.db, "SELECT * FROM deliveries ORDER BY received_at, id")

    def job_status(self, job_id: str) -> str:
        (row,) = run_sql(self.ctx.db, "SELECT status FROM jobs WHERE id = :id", id=job_id)
        return str(row["status"])


@pytest.fixture
def route(tmp_path: Path, database_url: str) -> Iterator[Route]:
    env = make_env(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        RECEIVER_MAX_BODY_BYTES="4096",
        RECEIVER_REQUEST_TIMEOUT="1s",
        RECEIVER_TRUSTED_PROXIES="127.0.0.1",
        # Every request is written down here; the cap on junk has a test of its own.
        RECEIVER_REJECTED_LOG_RATE="100000",
    )
    with Context(Settings.from_env(env)) as ctx, run_server(web_app(ctx, archive=False)) as base:
        route = Route(ctx, base)
        yield route
        route.http.close()


def test_status_codes_and_every_request_logged(route: Route) -> None:
    job_id = make_job(route.ctx.db)
    url = route.url(job_id)
    assert route.post(url, body(), **{"x-forwarded-for": "198.51.100.7"}).status_code == 200
    assert route.post(url, body()).json()["outcome"] == "duplicate"
    assert route.post("/callbacks/evolink/not-a-token", body()).status_code == 403
    assert route.post(url, b"{nope").status_code == 400
    assert route.post(url, body(), **{"content-type": "text/plain"}).status_code == 415
    too_large = route.post(url, b'{"x": "' + b"a" * 5000 + b'"}')
    assert too_large.status_code == 413
    assert too_large.json()["error"] == "too_large"
    assert route.post("/callbacks/nosuch/tok", body()).status_code == 404

    log = route.log()
    assert [(row["outcome"], (row["reason"] or "").split(":")[0]) for row in log] == [
        ("accepted", ""),
        ("duplicate", "the job is already completed"),
        ("rejected", "bad_token"),
        ("rejected", "malformed"),
        ("rejected", "wrong_content_type"),
        ("rejected", "too_large"),
    ]
    # Behind a trusted proxy the real client is recorded; headers are kept, secrets not.
    assert log[0]["client_addr"] == "198.51.100.7"
    assert json.loads(log[0]["headers"])["x-forwarded-for"] == "198.51.100.7"
    assert bytes(log[0]["body"]) == body()


def test_only_a_post_to_the_exact_route_shape_is_a_callback(route: Route) -> None:
    url = route.url(make_job(route.ctx.db))
    wrong_method = route.http.get(url)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["allow"] == "POST"
    assert wrong_method.json()["error"] == "method_not_allowed"
    assert route.post("/callbacks/evolink", body()).status_code == 404
    assert route.post(url + "/more", body()).status_code == 404
    # None of them was a callback: the delivery log holds callbacks only.
    assert route.log() == []
    answer = route.post(url, body())
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["outcome"] == "accepted"


def test_an_unbound_url_cannot_move_a_job_submitted_here(route: Route) -> None:
    job_id = make_job(route.ctx.db)
    unbound = route.url(None)
    response = route.post(unbound, body(status="failed"))
    assert response.status_code == 409
    assert response.json()["error"] == "task_mismatch"
    assert route.job_status(job_id) == "pending"
    # ...while a task nobody here submitted is adopted as a new job.
    assert route.post(unbound, body(task_id="task-theirs")).json()["outcome"] == "accepted"
    (adopted,) = run_sql(route.ctx.db, "SELECT params FROM jobs WHERE task_id = 'task-theirs'")
    assert json.loads(adopted["params"])["external"] is True


def test_secret_headers_are_redacted(route: Route) -> None:
    job_id = make_job(route.ctx.db)
    url = route.url(job_id)
    route.post(url, body(), authorization="Bearer sk-evo-secret", **{"x-original-uri": url})
    (row,) = route.log()
    assert "sk-evo-secret" not in row["headers"]
    assert url.rsplit("/", 1)[1] not in row["headers"]
    headers = json.loads(row["headers"])
    assert headers["authorization"] == "[redacted]"
    assert headers["x-original-uri"] == "/callbacks/evolink/[token]"


def test_a_stalled_body_times_out_with_408(route: Route) -> None:
    job_id = make_job(route.ctx.db)
    host, port = route.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            f"POST {route.url(job_id)} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: 100\r\n\r\n{".encode()
        )
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 408")
    assert route.job_status(job_id) == "pending"
    assert [row["reason"].split(":")[0] for row in route.log()] == ["timeout"]


def test_rejected_deliveries_are_purged_after_retention(route: Route) -> None:
    job_id = make_job(route.ctx.db)
    route.post(route.url(job_id), body())
    route.post("/callbacks/evolink/junk", body())
    long_ago = clock.to_db(clock.now() - timedelta(days=30))
    run_sql(route.ctx.db, "UPDATE deliveries SET received_at = :t", t=long_ago)
    assert purge_rejected(route.ctx.db, route.ctx.settings.rejected_retention) == 1
    assert [row["outcome"] for row in route.log()] == ["accepted"]


def raw_status(base: str, head: str) -> int:
    """Send a request head as is (no body) and read the answer's status code."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(head.encode())
        return int(sock.recv(64).split()[1])


def row_bytes(row: dict[str, Any]) -> int:
    """What a delivery row holds, in bytes (its stored values)."""
    return sum(
        len(value) if isinstance(value, str | bytes | memoryview) else 8
        for value in row.values()
        if value is not None
    )


def test_a_request_without_a_valid_token_costs_a_small_fixed_row(route: Route) -> None:
    flood = {f"x-junk-{n:03}": "j" * 300 for n in range(90)}
    refused = route.post("/callbacks/evolink/junk", b"x" * 4000, **flood)
    assert refused.status_code == 403
    declared = raw_status(
        route.base,
        "POST /callbacks/evolink/junk HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in flood.items())
        + "content-length: 999999999\r\n\r\n",
    )
    assert declared == 413
    rows = route.log()
    assert [row["reason"].split(":")[0] for row in rows] == ["bad_token", "too_large"]
    for row in rows:
        assert row["body"] is None
        headers = json.loads(row["headers"])
        assert headers["_count"] >= 90
        assert not any(name.startswith("x-junk") for name in headers)
        assert row_bytes(row) <= 512, row
    assert rows[0]["body_size"] == 4000


def test_a_rejection_behind_a_valid_token_is_kept_whole_for_replay(route: Route) -> None:
    url = route.url(make_job(route.ctx.db))
    assert route.post(url, b"{nope", **{"x-trace": "t1"}).status_code == 400
    (row,) = route.log()
    assert bytes(row["body"]) == b"{nope"
    assert json.loads(row["headers"])["x-trace"] == "t1"


def test_junk_past_its_budget_is_answered_and_counted_but_not_written(
    tmp_path: Path, database_url: str
) -> None:
    env = make_env(tmp_path, RECEIVER_DATABASE_URL=database_url, RECEIVER_REJECTED_LOG_RATE="1")
    with Context(Settings.from_env(env)) as ctx, run_server(web_app(ctx, archive=False)) as base:
        route = Route(ctx, base)
        started = time.monotonic()
        answers = [route.post(f"/callbacks/evolink/junk-{n}", body()) for n in range(40)]
        elapsed = time.monotonic() - started
        assert {answer.status_code for answer in answers} == {403}
        # A burst of five, then one a second.
        assert 5 <= len(route.log()) <= 5 + int(elapsed) + 1
        assert all(answer.json()["error"] == "bad_token" for answer in answers)
        metrics = route.http.get("/metrics").text
        assert "receiver_rejections_unlogged_total" in metrics
        route.http.close()


def test_the_rejected_log_is_capped_by_count_and_purged_in_batches(route: Route) -> None:
    for n in range(7):
        route.post(f"/callbacks/evolink/junk-{n}", body())
    kept = [row["id"] for row in route.log()][-3:]
    purged = purge_rejected(route.ctx.db, route.ctx.settings.rejected_retention, keep=3, batch=2)
    assert purged == 4
    assert [row["id"] for row in route.log()] == kept


_headers = st.dictionaries(
    st.sampled_from(["x-forwarded-for", "user-agent", "x-junk", "authorization"]),
    # HTTP forbids leading and trailing blanks in header values; the client enforces it.
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40).map(str.strip),
    max_size=4,
)
_bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda d: json.dumps(d).encode(),
        st.dictionaries(
            st.sampled_from(["id", "status", "results", "error", "progress", "created"]),
            st.one_of(
                st.none(),
                st.integers(),
                st.text(max_size=20),
                st.sampled_from(["completed", "failed", "processing", "task-victim"]),
                st.lists(st.text(max_size=30), max_size=2),
            ),
        ),
    ),
)


def test_random_requests_never_5xx_never_move_a_job_always_logged(route: Route) -> None:
    victim = make_job(route.ctx.db, task_id="task-victim")
    other = make_job(route.ctx.db, task_id="task-other")
    # A token of the victim minted four days ago: past RECEIVER_TOKEN_MAX_AGE (72 h).
    with mock.patch("itsdangerous.timed.time.time", return_value=time.time() - 4 * 86400):
        expired = route.url(victim)
    tokens = st.sampled_from(
        [
            route.url(other),  # a valid token, of another job
            "/callbacks/evolink/" + route.url(victim).rsplit("/", 1)[1][:-3] + "abc",  # tampered
            expired,
            "/callbacks/evolink/",
            "/callbacks/evolink/%00",
            "/callbacks/evolink/" + "a" * 2000,
        ]
    )
    sent = 0

    # Half the requests are JSON, so most get past the content-type check to the token.
    content_types = st.one_of(
        st.just("application/json"),
        st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=30),
    )

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(path=tokens, content=_bodies, headers=_headers, content_type=content_types)
    def post_junk(path: str, content: bytes, headers: dict[str, str], content_type: str) -> None:
        nonlocal sent
        headers = {**headers, "content-type": content_type}
        response = route.http.post(path, content=content, headers=headers)
        assert response.status_code < 500, response.text
        if response.status_code in {403, 400, 413, 415, 409}:
            assert response.json()["error"]
        # A path without a token never reaches the callback route (404 from the router).
        sent += 1 if path != "/callbacks/evolink/" else 0

    post_junk()
    assert route.job_status(victim) == "pending"
    log = route.log()
    # Every request that reached the callback route is in the log, once.
    assert len(log) == sent
    assert any((row["reason"] or "").startswith("expired_token") for row in log)
    assert all(row["job_id"] != victim or row["outcome"] == "rejected" for row in log)
