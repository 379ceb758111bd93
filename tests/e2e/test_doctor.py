"""`receiver doctor` against a running stack: healthy says 0; each broken part says 1 and
names its fix (docs/deploy.md, step 9)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from receiver.devtools.seaweed import SeaweedFS, free_ports
from tests.e2e.conftest import Stack, spawn, stop_process, wait_up

LIFECYCLE = {
    "Rules": [
        {
            "ID": "abort-incomplete-multipart-uploads",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
        }
    ]
}


def doctor(stack: Stack, *args: str, **overrides: str) -> tuple[int, dict[str, Any], str]:
    """Exit status, findings by check, and stderr of `receiver doctor --json`."""
    result = subprocess.run(
        [sys.executable, "-m", "receiver", "doctor", "--json", *args],
        env={**stack.env, **overrides},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout, result.stderr
    document = json.loads(result.stdout)
    assert document["healthy"] is (result.returncode == 0)
    return result.returncode, {c["check"]: c for c in document["checks"]}, result.stderr


def _set_lifecycle(stack: Stack, seaweedfs: SeaweedFS) -> None:
    # As an administrator would, with the store's admin identity (docs/deploy.md).
    client = boto3.client(
        "s3",
        endpoint_url=seaweedfs.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=seaweedfs.credentials.access_key,
        aws_secret_access_key=seaweedfs.credentials.secret_key,
    )
    client.put_bucket_lifecycle_configuration(
        Bucket=stack.env["RECEIVER_S3_BUCKET"],
        LifecycleConfiguration=LIFECYCLE,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_doctor_says_healthy_then_names_each_broken_part(
    stack: Stack, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    _set_lifecycle(stack, seaweedfs)

    # Healthy: exit 0. The stack runs insecure on http, which is worth a warning only.
    status, checks, _ = doctor(stack)
    assert status == 0, checks
    assert {name for name, check in checks.items() if check["status"] == "fail"} == set()
    assert checks["round_trip"]["status"] == "ok"
    assert "writing to this database" in checks["round_trip"]["message"]
    assert checks["database"]["status"] == "ok"
    assert checks["bucket"]["status"] == "ok"
    assert checks["lifecycle"]["status"] == "ok"
    assert checks["provider:evolink"]["status"] == "ok"
    assert checks["admin_token"]["status"] == "ok"
    assert checks["public_url"]["status"] == "warn"
    assert checks["insecure"]["status"] == "warn"
    # The text form ends with the verdict.
    text = stack.cli("doctor")
    assert text.stdout.splitlines()[-1].startswith("healthy: 0 failed")
    # The probe created nothing but one rejected delivery, which names no job.
    jobs = stack.cli("jobs", "--json").stdout.strip()
    assert jobs in {"", "[]"}

    # A public URL that leads elsewhere: the simulator answers, not a receiver.
    status, checks, _ = doctor(stack, RECEIVER_PUBLIC_URL=stack.simulator_url)
    assert status == 1
    assert checks["round_trip"]["status"] == "fail"
    assert "without a receiver's verdict" in checks["round_trip"]["message"]
    assert "RECEIVER_PUBLIC_URL" in checks["round_trip"]["fix"]

    # Our keys, another receiver, another database: its delivery is not in ours.
    (other_port,) = free_ports(1)
    other_env = {
        **stack.env,
        "RECEIVER_DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}",
        "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{other_port}",
    }
    other_log = tmp_path / "other.log"
    other = spawn(["serve", "--no-worker", "--port", str(other_port)], other_env, other_log)
    try:
        wait_up(f"http://127.0.0.1:{other_port}/healthz", other, other_log)
        status, checks, _ = doctor(stack, RECEIVER_PUBLIC_URL=f"http://127.0.0.1:{other_port}")
    finally:
        stop_process(other)
    assert status == 1
    assert "writes to another database" in checks["round_trip"]["message"]

    # Everything else wrong at once (each check stands alone): keys the running receiver
    # does not hold (changed, and it was not restarted), a wrong S3 secret, a provider key
    # the provider refuses, a database that is not there, a guessable admin token.
    missing = tmp_path / "missing.db"
    status, checks, _ = doctor(
        stack,
        RECEIVER_SECRET_KEYS=secrets.token_urlsafe(32),
        AWS_SECRET_ACCESS_KEY="not-" + secrets.token_hex(12),
        EVOLINK_API_KEY="sk-evo-wrong",
        RECEIVER_DATABASE_URL=f"sqlite:///{missing}",
        RECEIVER_ADMIN_TOKEN="a" * 32,
    )
    assert status == 1
    assert "does not hold RECEIVER_SECRET_KEYS" in checks["round_trip"]["message"]
    assert checks["bucket"]["status"] == "fail"
    assert "AWS_SECRET_ACCESS_KEY" in checks["bucket"]["fix"]
    assert "RECEIVER_S3_ENDPOINT_URL" in checks["bucket"]["fix"]
    assert "lifecycle" not in checks
    assert checks["provider:evolink"]["status"] == "fail"
    assert "EVOLINK_API_KEY" in checks["provider:evolink"]["fix"]
    assert "there is no database" in checks["database"]["message"]
    assert not missing.exists()
    assert checks["admin_token"]["status"] == "fail"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_doctor_warns_about_a_bucket_without_the_lifecycle_rule(stack: Stack) -> None:
    status, checks, _ = doctor(stack)
    assert status == 0
    assert checks["lifecycle"]["status"] == "warn"
    assert "abort" in checks["lifecycle"]["message"]
    assert "deploy.md#lifecycle-rule" in checks["lifecycle"]["fix"]
