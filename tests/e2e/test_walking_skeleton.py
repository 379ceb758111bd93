"""A user's path: submit with the CLI, the provider calls back, the video lands in S3."""

from __future__ import annotations

import hashlib
import json

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def s3_sha256(stack: Stack, bucket: str, key: str) -> str:
    client = boto3.client(
        "s3",
        endpoint_url=stack.env["RECEIVER_S3_ENDPOINT_URL"],
        aws_access_key_id=stack.env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=stack.env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}),
    )
    body = client.get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in body.iter_chunks(1024 * 1024):
        digest.update(chunk)
    uploads = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert uploads == [], "no multipart upload may be left open"
    return digest.hexdigest()


def test_submit_callback_archive_end_to_end(stack: Stack) -> None:
    # The provider's response to our first attempt is "lost" (so it retries a delivery we
    # already handled), and it sends the final callback once more on top.
    stack.simulator(
        "PATCH",
        "/_simulator/config",
        json={
            "callback_fail_first": 1,
            "duplicate_callbacks": 1,
            "retry_delays": [0.2, 0.4, 0.8],
            "video_bytes": 12 * 1024 * 1024,
        },
    )

    submitted = json.loads(stack.cli("submit", "A paper boat on a rainy street", "--json").stdout)
    job_id = submitted["id"]
    assert submitted["status"] == "pending"
    assert submitted["task_id"].startswith("task-unified-")
    assert submitted["params"]["duration"] == 5

    job = stack.wait_for(job_id, "stored", "expired", "failed")
    assert job["status"] == "stored", job
    asset = job["asset"]
    assert asset["size_bytes"] == 12 * 1024 * 1024
    assert asset["key"].endswith(f"/{job_id}.mp4")

    stats = stack.simulator("GET", "/_simulator/stats")["tasks"][job["task_id"]]
    assert asset["sha256"] == stats["sha256"]
    assert s3_sha256(stack, asset["bucket"], asset["key"]) == stats["sha256"]
    # One job, one video, one download, however many times the provider called.
    assert stats["downloads"] == 1
    attempts = stats["callback_attempts"]
    assert len(attempts) >= 3
    outcomes = [d["outcome"] for d in job["deliveries"]]
    assert outcomes.count("accepted") == 1
    assert outcomes.count("duplicate") == len(attempts) - 1
    types = [e["type"] for e in job["events"]]
    assert [t for t in types if t != "archive.progress"][-2:] == ["job.completed", "asset.stored"]
    progress = [e["data"] for e in job["events"] if e["type"] == "archive.progress"]
    # At most one a second, at part boundaries: the first part and the whole file always.
    told = [p["bytes"] for p in progress]
    assert told[0] == 5 * 1024 * 1024
    assert told[-1] == 12 * 1024 * 1024
    assert told == sorted(set(told))
    assert set(told) <= {5 * 1024 * 1024, 10 * 1024 * 1024, 12 * 1024 * 1024}
    assert {p["total"] for p in progress} == {12 * 1024 * 1024}

    # Replaying the accepted delivery of a stored job changes nothing, downloads nothing.
    accepted = next(d["id"] for d in job["deliveries"] if d["outcome"] == "accepted")
    assert "already done 1" in stack.cli("replay", accepted).stderr
    stats = stack.simulator("GET", "/_simulator/stats")["tasks"][job["task_id"]]
    assert stats["downloads"] == 1


def test_health_and_readiness(stack: Stack) -> None:
    assert httpx.get(f"{stack.receiver_url}/healthz", timeout=5).json() == {"status": "ok"}
    ready = httpx.get(f"{stack.receiver_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "bucket": "ok"}


# Engine-agnostic beyond what the integration tests prove on both: SQLite alone here.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failed_generation_ends_with_the_providers_reason(stack: Stack) -> None:
    submitted = json.loads(stack.cli("submit", "a fox [sim:fail]", "--json").stdout)
    job = stack.wait_for(submitted["id"], "failed")
    assert job["error"]["code"]
    assert job["asset"] is None


# The engine-specific SQL of this path is proven on both engines by the integration tests;
# end to end, SQLite alone keeps the suite within its time budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_jobs_lists_newest_first(stack: Stack) -> None:
    first = json.loads(stack.cli("submit", "first", "--json").stdout)["id"]
    second = json.loads(stack.cli("submit", "second", "--json").stdout)["id"]
    lines = stack.cli("jobs", "--json").stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == [second, first]
    table = stack.cli("jobs").stdout
    assert second in table
    assert "second" in table


# Engine-agnostic (input and settings checks): SQLite alone keeps the suite in its budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_input_gets_a_clear_error_and_no_job(stack: Stack) -> None:
    result = stack.cli("submit", "a fox", "--duration", "20", check=False)
    assert result.returncode == 2
    assert "duration" in result.stderr
    assert "between 3 and 15" in result.stderr
    assert "Traceback" not in result.stderr
    assert stack.cli("jobs", "--json").stdout == ""

    result = stack.cli("show", "job_nope", check=False)
    assert result.returncode == 1
    assert "no job" in result.stderr


# Engine-agnostic (input and settings checks): SQLite alone keeps the suite in its budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_missing_setting_names_the_variable(stack: Stack) -> None:
    stack.env.pop("RECEIVER_SECRET_KEYS")
    result = stack.cli("submit", "a fox", check=False)
    assert result.returncode == 2
    assert "RECEIVER_SECRET_KEYS" in result.stderr
    assert "Traceback" not in result.stderr


# Engine-agnostic (input and settings checks): SQLite alone keeps the suite in its budget.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_provider_refusal_is_explained(stack: Stack) -> None:
    stack.env["EVOLINK_API_KEY"] = "sk-evo-wrong"
    result = stack.cli("submit", "a fox", check=False)
    assert result.returncode == 1
    assert "401" in result.stderr
    assert "EVOLINK_API_KEY" in result.stderr
    (line,) = stack.cli("jobs", "--json").stdout.splitlines()
    assert json.loads(line)["status"] == "submit_failed"
