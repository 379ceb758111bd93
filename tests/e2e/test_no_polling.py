"""Getting the video without polling: the API, --wait over the live event stream, --download."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_submit_wait_download(stack: Stack, tmp_path: Path) -> None:
    target = tmp_path / "video.mp4"
    result = stack.cli("submit", "a kite over the dunes", "--wait", "--download", str(target))
    uri, url = result.stdout.splitlines()
    assert uri.startswith("s3://")
    assert uri.endswith(".mp4")
    assert url.startswith(stack.env["RECEIVER_S3_ENDPOINT_URL"])
    (task,) = stack.simulator("GET", "/_simulator/stats")["tasks"].values()
    assert hashlib.sha256(target.read_bytes()).hexdigest() == task["sha256"]


# Engine-agnostic beyond what the integration tests prove on both: SQLite alone here.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_wait_reports_a_failure_with_its_reason(stack: Stack) -> None:
    job_id = json.loads(stack.cli("submit", "a fox [sim:fail]", "--json").stdout)["id"]
    result = stack.cli("wait", job_id, "--json", check=False)
    assert result.returncode == 1
    outcome = json.loads(result.stdout)
    assert outcome["stored"] is False
    assert outcome["reason"].startswith("failed")
    # Waiting on a job already decided answers at once, the same way.
    assert stack.cli("wait", job_id, check=False).returncode == 1


# Engine-agnostic beyond what the integration tests prove on both: SQLite alone here.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_jobs_api(stack: Stack) -> None:
    api = httpx.Client(base_url=stack.receiver_url, headers=AUTH, timeout=30)
    bad = api.post("/v1/jobs", json={"prompt": "x", "duration": 99})
    assert bad.status_code == 400
    assert bad.json()["field"] == "duration"
    created = api.post("/v1/jobs", json={"prompt": "a lantern", "duration": 3})
    assert created.status_code == 201
    job_id = created.json()["id"]
    early = api.get(f"/v1/jobs/{job_id}/video")
    assert early.status_code == 409
    assert early.json()["error"] == "not_stored"
    stack.wait_for(job_id, "stored")
    video = api.get(f"/v1/jobs/{job_id}/video", follow_redirects=False)
    assert video.status_code == 302
    assert httpx.get(video.headers["location"], timeout=30).content[4:8] == b"ftyp"

    for n in range(3):
        assert api.post("/v1/jobs", json={"prompt": f"more {n}"}).status_code == 201
    first = api.get("/v1/jobs", params={"limit": 2}).json()
    second = api.get("/v1/jobs", params={"limit": 2, "cursor": first["next_cursor"]}).json()
    ids = [job["id"] for job in first["jobs"] + second["jobs"]]
    assert len(ids) == 4
    assert len(set(ids)) == 4
    assert ids == sorted(ids, reverse=True)
    assert second["next_cursor"] is None
    stored = api.get("/v1/jobs", params={"status": "stored"}).json()["jobs"]
    assert [job["id"] for job in stored] == [job_id]
    assert api.get("/v1/jobs/job_nope").status_code == 404
    assert httpx.get(f"{stack.receiver_url}/v1/jobs", timeout=10).status_code == 401
    api.close()
