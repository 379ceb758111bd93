"""The one check every fault scenario ends with, printed and asserted.

Whatever was done to the system, every job must be either stored exactly once (one asset
row, one object in the bucket, its bytes hashing to the SHA-256 the simulator serves) or
sit in a clear terminal state with its reason; the source must have been downloaded to its
last byte exactly once per stored job (a download cut off by a kill or a fault does not
count: a restarted worker cannot keep SHA-256 state, so it must ask again); and no
multipart upload may be left open.

One exception is counted, never guessed: a worker SIGKILLed after the source had sent it
the last byte, but before the job was recorded, leaves nothing a successor can finish
without reading the file again (S3 does not serve the parts of an unfinished upload, and
the hash state died with the process). The kill scenario tells the audit which jobs that
happened to (``forced_downloads``, measured at the moment of each kill), and those
re-downloads are printed apart from the one every stored job must have.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
from botocore.config import Config
from mypy_boto3_s3 import S3Client

from receiver.store.database import open_database
from tests.conftest import run_sql

__all__ = ["Audit", "audit", "s3_client", "wait_settled"]

#: Final job statuses that are an answer in themselves (the provider's, or ours).
_TERMINAL = frozenset({"failed", "cancelled", "expired", "submit_failed"})
#: Archive task states that end a job that will not be stored.
_TASK_GAVE_UP = frozenset({"failed", "expired"})

_JOBS = (
    "SELECT j.id, j.task_id, j.status, j.attention, j.error_message, "
    "t.state AS task_state, t.last_error, a.object_key, a.sha256, a.size_bytes "
    "FROM jobs j LEFT JOIN archive_tasks t ON t.job_id = j.id "
    "LEFT JOIN assets a ON a.job_id = j.id"
)


@dataclass
class Audit:
    scenario: str
    jobs: int = 0
    stored_right: int = 0
    terminal_with_reason: int = 0
    #: How many stored jobs had their source downloaded to the end once, twice, ...
    complete_downloads: Counter[int] = field(default_factory=Counter)
    partial_downloads: int = 0
    #: Re-downloads a kill made unavoidable (see the module's docstring).
    forced_downloads: int = 0
    open_uploads: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        per_job = ", ".join(f"{n}x: {jobs}" for n, jobs in sorted(self.complete_downloads.items()))
        return (
            f"[chaos] {self.scenario}: jobs={self.jobs} stored_right_sha256={self.stored_right} "
            f"terminal_with_reason={self.terminal_with_reason} "
            f"complete_downloads_per_stored_job={{{per_job}}} "
            f"forced_by_kills_after_last_byte={self.forced_downloads} "
            f"cut_off_or_failed_downloads={self.partial_downloads} "
            f"open_multipart_uploads={self.open_uploads} problems={len(self.problems)}"
        )


def s3_client(env: dict[str, str]) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=env["RECEIVER_S3_ENDPOINT_URL"],
        region_name=env.get("AWS_REGION", "us-east-1"),
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}),
    )


def job_rows(env: dict[str, str]) -> list[dict[str, Any]]:
    db = open_database(env["RECEIVER_DATABASE_URL"])
    try:
        return run_sql(db, _JOBS)
    finally:
        db.close()


def _settled(row: dict[str, Any]) -> bool:
    return (
        row["status"] == "stored"
        or row["status"] in _TERMINAL
        or (row["task_state"] in _TASK_GAVE_UP and bool(row["attention"]))
    )


def wait_settled(
    env: dict[str, str],
    expected_jobs: int,
    *,
    timeout: float,
    while_waiting: Callable[[], None] | None = None,
) -> None:
    """Until every one of ``expected_jobs`` jobs is stored or terminal (else fail, naming them)."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        rows = job_rows(env)
        if len(rows) == expected_jobs and all(map(_settled, rows)):
            return
        if while_waiting is not None:
            while_waiting()
        time.sleep(0.5)
    unsettled = Counter(
        f"{r['status']}/{r['task_state']}: {r['last_error']}" for r in rows if not _settled(r)
    )
    raise AssertionError(
        f"{len(rows)} jobs (expected {expected_jobs}), not settled after {timeout:.0f}s: "
        f"{dict(unsettled)}"
    )


def audit(
    scenario: str,
    env: dict[str, str],
    simulator_url: str,
    *,
    expect_stored: int,
    expect_terminal: int = 0,
    forced_downloads: Mapping[str, int] | None = None,
    read_back: bool = True,
) -> Audit:
    """Check, print and assert the invariants; returns the counts for further checks."""
    result = Audit(scenario)
    rows = job_rows(env)
    stats: dict[str, Any] = httpx.get(f"{simulator_url}/_simulator/stats", timeout=60).json()[
        "tasks"
    ]
    s3 = s3_client(env)
    bucket = env["RECEIVER_S3_BUCKET"]
    objects = _objects(s3, bucket)
    result.jobs = len(rows)
    asset_keys = set()
    for row in rows:
        task = stats.get(row["task_id"] or "", {})
        result.partial_downloads += (
            task.get("downloads", 0) + task.get("range_downloads", 0)
        ) - task.get("complete_downloads", 0)
        if row["status"] == "stored":
            asset_keys.add(row["object_key"])
            forced = (forced_downloads or {}).get(row["id"], 0)
            result.forced_downloads += forced
            _check_stored(
                result,
                row,
                task=task,
                forced=forced,
                objects=objects,
                s3=s3,
                bucket=bucket,
                read_back=read_back,
            )
        elif row["status"] in _TERMINAL or row["task_state"] in _TASK_GAVE_UP:
            reason = row["attention"] or row["error_message"]
            if reason and row["object_key"] is None:
                result.terminal_with_reason += 1
                result.reasons[reason] += 1
            else:
                result.problems.append(f"{row['id']}: {row['status']} without a reason or stored")
        else:
            result.problems.append(
                f"{row['id']}: left in {row['status']}/{row['task_state']}: {row['last_error']}"
            )
    strays = set(objects) - asset_keys
    if strays:
        result.problems.append(f"{len(strays)} objects in the bucket no job owns: {sorted(strays)}")
    result.open_uploads = _open_uploads(s3, bucket)
    if result.open_uploads:
        result.problems.append(f"{result.open_uploads} multipart uploads left open")
    print(result.line())
    for reason, count in result.reasons.items():
        print(f"[chaos] {scenario}:   terminal reason x{count}: {reason}")
    assert not result.problems, "\n".join(result.problems[:20])
    assert (result.stored_right, result.terminal_with_reason) == (expect_stored, expect_terminal)
    return result


def _check_stored(
    result: Audit,
    row: dict[str, Any],
    *,
    task: dict[str, Any],
    forced: int,
    objects: dict[str, int],
    s3: S3Client,
    bucket: str,
    read_back: bool,
) -> None:
    complete = int(task.get("complete_downloads", 0))
    result.complete_downloads[complete] += 1
    if complete != 1 + forced:
        result.problems.append(
            f"{row['id']}: source downloaded to the end {complete} times "
            f"({forced} forced by a kill after its last byte)"
        )
    if row["sha256"] != task.get("sha256"):
        result.problems.append(f"{row['id']}: stored SHA-256 differs from the source's")
        return
    if objects.get(row["object_key"]) != row["size_bytes"] or row["size_bytes"] != task["size"]:
        result.problems.append(f"{row['id']}: object missing or of the wrong size")
        return
    if read_back:
        digest = hashlib.sha256()
        for chunk in s3.get_object(Bucket=bucket, Key=row["object_key"])["Body"].iter_chunks(
            1024 * 1024
        ):
            digest.update(chunk)
        if digest.hexdigest() != row["sha256"]:
            result.problems.append(f"{row['id']}: the object's bytes do not hash to its SHA-256")
            return
    result.stored_right += 1


def _objects(s3: S3Client, bucket: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            found[item["Key"]] = item["Size"]
    return found


def _open_uploads(s3: S3Client, bucket: str) -> int:
    """Open multipart uploads, given a few seconds: the last sweeps run just after the end."""
    deadline = time.monotonic() + 15
    while True:
        count = len(s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []))
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.5)
