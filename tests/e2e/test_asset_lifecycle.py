"""The life of stored assets through the shipped commands: ``receiver import`` of a task made
elsewhere, ``receiver delete`` with its audit, and the retention chore of ``receiver serve``
deleting old videos and staged first frames on its own."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from receiver.config import Settings
from receiver.storage import ObjectStore
from tests.e2e.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def task_made_elsewhere(stack: Stack, prompt: str) -> str:
    """A task created straight at the provider, with no callback to us."""
    response = httpx.post(
        f"{stack.simulator_url}/v1/videos/generations",
        headers={"Authorization": "Bearer sk-evo-e2e"},
        json={"model": "kling-v3-turbo-text-to-video", "prompt": prompt, "duration": 5},
        timeout=10,
    )
    response.raise_for_status()
    return str(response.json()["id"])


def api_job(stack: Stack, job_id: str) -> dict[str, Any] | None:
    """The job as ``GET /v1/jobs/{id}`` has it (cheaper to poll than a CLI process), or None."""
    response = httpx.get(
        f"{stack.receiver_url}/v1/jobs/{job_id}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )
    if response.status_code == 404:
        return None
    response.raise_for_status()
    job: dict[str, Any] = response.json()
    return job


def stored(stack: Stack, job_id: str) -> dict[str, Any]:
    wait_until(lambda: (api_job(stack, job_id) or {}).get("status") == "stored", f"{job_id} stored")
    job = api_job(stack, job_id)
    assert job is not None
    return job


def deletions(stack: Stack) -> list[dict[str, Any]]:
    out = stack.cli("deletions", "--json").stdout
    return [json.loads(line) for line in out.splitlines()]


def store(stack: Stack) -> ObjectStore:
    return ObjectStore(Settings.from_env(stack.env))


# One engine end to end: the core runs on both in tests/integration/test_idempotency.py.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_import_delete_and_retention(stack: Stack, tmp_path: Path) -> None:
    # ── import: a task submitted elsewhere is adopted and archived while its link lives ──
    task_id = task_made_elsewhere(stack, "a kite made elsewhere")
    wait_until(
        lambda: (
            stack.simulator("GET", "/_simulator/stats")["tasks"][task_id]["status"] == "completed"
        ),
        "the task to complete at the provider",
    )
    imported = json.loads(stack.cli("import", task_id, "--json").stdout)
    assert imported["created"] is True
    assert imported["archive_deadline"] is not None
    job = stored(stack, imported["job_id"])
    tasks = stack.simulator("GET", "/_simulator/stats")["tasks"]
    assert job["task_id"] == task_id
    assert job["asset"]["sha256"] == tasks[task_id]["sha256"]
    assert [d["source"] for d in job["deliveries"]] == ["import"]
    assert "job.imported" in [event["type"] for event in job["events"]]
    again = json.loads(stack.cli("import", task_id, "--json").stdout)
    assert (again["created"], again["job_id"]) == (False, imported["job_id"])
    unknown = stack.cli("import", "task-nobody-made", check=False)
    assert unknown.returncode == 1
    assert "task-nobody-made" in unknown.stderr

    # ── delete: the video and the records go, an audit row says who and when ──
    key = job["asset"]["key"]
    objects = store(stack)
    assert objects.head(key) is not None
    stack.simulator("PATCH", "/_simulator/config", json={"delay": 600})
    running = json.loads(stack.cli("submit", "a lantern", "--json").stdout)
    stack.simulator("PATCH", "/_simulator/config", json={"delay": 0.5})
    refused = stack.cli("delete", running["id"], check=False)
    assert refused.returncode == 1
    assert "only a settled job" in refused.stderr
    deleted = stack.cli("delete", job["id"], "--reason", "a bad take")
    assert f"deleted {job['id']} (stored) and s3://" in deleted.stdout
    assert objects.head(key) is None
    gone = stack.cli("show", job["id"], check=False)
    assert gone.returncode == 1
    (audit,) = deletions(stack)
    assert (audit["job_id"], audit["reason"], audit["status"]) == (
        job["id"],
        "a bad take",
        "stored",
    )
    assert "@" in audit["deleted_by"]
    assert audit["deleted_at"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    twice = stack.cli("delete", job["id"], check=False)
    assert twice.returncode == 1
    assert "deleted already" in twice.stderr

    # ── retention: with short settings the chore deletes old videos and staged frames ──
    frame = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (10, 120, 200)).save(frame, "PNG")
    image_job = json.loads(stack.cli("submit", "a sunrise", "--image", str(frame), "--json").stdout)
    frame_key = image_job["params"]["image"].split("/", 3)[3]
    assert objects.head(frame_key) is not None
    text_job = json.loads(stack.cli("submit", "a harbour", "--json").stdout)
    text_stored = stored(stack, text_job["id"])
    stored(stack, image_job["id"])
    stack.stop_receiver()
    stack.start_receiver(
        RECEIVER_VIDEO_RETENTION="2s",
        RECEIVER_INPUT_RETENTION="1s",
        RECEIVER_IMAGE_URL_EXPIRY="1s",
        RECEIVER_PURGE_INTERVAL="1s",
    )
    wait_until(
        lambda: api_job(stack, text_job["id"]) is None and api_job(stack, image_job["id"]) is None,
        "the retention to delete both videos",
    )
    by_retention = {row["job_id"]: row for row in deletions(stack)[:2]}
    assert set(by_retention) == {text_job["id"], image_job["id"]}
    assert all(
        row["deleted_by"] == "retention (RECEIVER_VIDEO_RETENTION=2s)"
        for row in by_retention.values()
    )
    assert objects.head(text_stored["asset"]["key"]) is None
    wait_until(lambda: objects.head(frame_key) is None, "the staged frame to be deleted")
    # Only the job still running is left.
    left = [json.loads(line)["id"] for line in stack.cli("jobs", "--json").stdout.splitlines()]
    assert left == [running["id"]]
