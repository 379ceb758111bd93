"""Outbound notifications: signed per Standard Webhooks, retried with a stable id, 410 honoured."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from receiver import clock
from receiver.config import Settings
from receiver.intake import IncomingDelivery, ingest
from receiver.notify import Notifier
from receiver.providers import evolink_protocol
from receiver.store.database import Database, open_database
from receiver.store.migrate import migrate
from tests.conftest import make_env, run_sql
from tests.integration.test_intake import body, make_job
from tests.servers import run_server

pytestmark = pytest.mark.integration

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Endpoint:
    """A subscriber that verifies every request with the standardwebhooks library."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.verifier = Webhook(SECRET)

    async def handle(self, request: Request) -> Response:
        raw = await request.body()
        payload = self.verifier.verify(raw, dict(request.headers))  # raises if forged
        self.received.append((request.headers["webhook-id"], payload))
        status = self.answers.pop(0) if self.answers else 204
        return Response(status_code=status, headers={"retry-after": "0"})


@pytest.fixture
def endpoint() -> Iterator[tuple[Endpoint, str]]:
    subscriber = Endpoint()
    with run_server(
        Starlette(routes=[Route("/hook", subscriber.handle, methods=["POST"])])
    ) as base:
        yield subscriber, f"{base}/hook"


def setup(tmp_path: Path, database_url: str, url: str) -> tuple[Database, Notifier]:
    env = make_env(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        RECEIVER_NOTIFY_URLS=url,
        RECEIVER_NOTIFY_SECRET=SECRET,
    )
    settings = Settings.from_env(env)
    db = open_database(settings.database_url)
    migrate(db)
    return db, Notifier(db, settings)


def fail_job(db: Database, task: str) -> str:
    job_id = make_job(db, task_id=task)
    raw = body(task_id=task, status="failed", error={"code": "policy", "message": "no"})
    ingest(
        db,
        job_id,
        evolink_protocol.parse_task_json(raw),
        IncomingDelivery(provider="evolink", body=raw),
    )
    return job_id


def due_now(db: Database) -> None:
    run_sql(db, "UPDATE notifications SET next_attempt_at = :now", now=clock.to_db(clock.now()))


def test_final_events_are_signed_and_retried_with_a_stable_id(
    tmp_path: Path, database_url: str, endpoint: tuple[Endpoint, str]
) -> None:
    subscriber, url = endpoint
    db, notifier = setup(tmp_path, database_url, url)
    notifier.run_once()  # the cursor starts at "now": history is not replayed
    job_id = fail_job(db, "task-n1")
    subscriber.answers = [500, 503]
    for _ in range(3):
        notifier.run_once()
        due_now(db)
    ids = {webhook_id for webhook_id, _ in subscriber.received}
    assert len(subscriber.received) == 3
    assert len(ids) == 1  # the same webhook-id on every retry
    payload = subscriber.received[-1][1]
    assert payload["type"] == "job.failed"
    assert payload["data"]["job"]["id"] == job_id
    assert payload["data"]["job"]["error"]["code"] == "policy"
    (row,) = run_sql(db, "SELECT state, attempts FROM notifications")
    assert (row["state"], row["attempts"]) == ("delivered", 3)
    notifier.close()
    db.close()


def test_gone_disables_the_subscription(
    tmp_path: Path, database_url: str, endpoint: tuple[Endpoint, str]
) -> None:
    subscriber, url = endpoint
    db, notifier = setup(tmp_path, database_url, url)
    notifier.run_once()
    subscriber.answers = [410]
    fail_job(db, "task-n2")
    notifier.run_once()
    fail_job(db, "task-n3")
    notifier.run_once()
    assert len(subscriber.received) == 1
    (sub,) = run_sql(db, "SELECT disabled_at FROM subscriptions")
    assert sub["disabled_at"] is not None
    assert [r["state"] for r in run_sql(db, "SELECT state FROM notifications")] == ["disabled"]
    notifier.close()
    db.close()


def test_unsafe_endpoints_are_refused(tmp_path: Path, database_url: str) -> None:
    env = make_env(
        tmp_path,
        RECEIVER_DATABASE_URL=database_url,
        RECEIVER_NOTIFY_SECRET=SECRET,
        RECEIVER_NOTIFY_URLS="https://127.0.0.1:9/hook",
    )
    env.pop("RECEIVER_INSECURE")
    env["RECEIVER_PUBLIC_URL"] = "https://r.example.com"
    env["EVOLINK_BASE_URL"] = "https://api.evolink.ai"
    settings = Settings.from_env(env)
    db = open_database(settings.database_url)
    migrate(db)
    notifier = Notifier(db, settings)
    notifier.run_once()
    fail_job(db, "task-n4")
    notifier.run_once()
    (row,) = run_sql(db, "SELECT state, last_error FROM notifications")
    assert row["state"] == "failed"
    assert "not a public address" in row["last_error"]
    notifier.close()
    db.close()


def test_a_bad_secret_names_its_variable(tmp_path: Path) -> None:
    from receiver.errors import ConfigError

    with pytest.raises(ConfigError, match="RECEIVER_NOTIFY_SECRET"):
        Settings.from_env(make_env(tmp_path, RECEIVER_NOTIFY_SECRET="whsec_short"))
