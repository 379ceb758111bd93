"""Kling chosen per job, from the command line and from the HTTP API, against the simulator."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e

ACCESS_KEY = "ak-kling-e2e"
SECRET_KEY = "sk-kling-e2e-" + "e" * 24


# The engine-specific SQL of this path is proven on both engines by the integration tests;
# end to end, SQLite alone keeps the suite within its time budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_kling_jobs_from_the_cli_and_the_api(stack: Stack) -> None:
    stack.simulator(
        "PATCH",
        "/_simulator/config",
        json={
            "kling_access_key": ACCESS_KEY,
            "kling_secret_key": SECRET_KEY,
            "duplicate_callbacks": 1,
        },
    )
    # Without the key pair, a Kling job is refused up front, naming the settings.
    result = stack.cli("submit", "a heron", "--provider", "kling", check=False)
    assert result.returncode == 2
    assert "KLING_ACCESS_KEY" in result.stderr
    assert "Traceback" not in result.stderr

    stack.stop_receiver()
    stack.start_receiver(
        KLING_ACCESS_KEY=ACCESS_KEY,
        KLING_SECRET_KEY=SECRET_KEY,
        KLING_BASE_URL=stack.simulator_url,
    )
    submitted = json.loads(
        stack.cli("submit", "a heron in the rain", "--provider", "kling", "--json").stdout
    )
    assert (submitted["provider"], submitted["model"]) == ("kling", "kling-v3")
    assert submitted["status"] == "pending"

    with httpx.Client(
        base_url=stack.receiver_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ) as api:
        created = api.post(
            "/v1/jobs",
            json={
                "prompt": "a lantern",
                "provider": "kling",
                "model": "kling-v2-6",
                "duration": 10,
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["provider"] == "kling"
        refused = api.post("/v1/jobs", json={"prompt": "a lantern", "provider": "sora"})
        assert refused.status_code == 400
        assert refused.json()["field"] == "provider"
        # Kling's own rules apply: kling-v2-6 makes 5 or 10 second videos.
        refused = api.post(
            "/v1/jobs",
            json={"prompt": "a", "provider": "kling", "model": "kling-v2-6", "duration": 7},
        )
        assert refused.status_code == 400
        assert "5 or 10" in refused.json()["message"]

    for job_id in (submitted["id"], created.json()["id"]):
        job = stack.wait_for(job_id, "stored", "failed", "expired")
        assert job["status"] == "stored", job
        stats = stack.simulator("GET", "/_simulator/stats")["tasks"][job["task_id"]]
        assert job["asset"]["sha256"] == stats["sha256"]
        assert stats["downloads"] == 1
        outcomes = sorted(d["outcome"] for d in job["deliveries"])
        # processing and succeed, each sent twice: one of each moved the job.
        assert outcomes == ["accepted", "accepted", "duplicate", "duplicate"]

    url = stack.cli("callback-url", "--provider", "kling").stdout.strip()
    assert url.startswith(f"{stack.receiver_url}/callbacks/kling/")
