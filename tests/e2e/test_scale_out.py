"""Scale-out on PostgreSQL: two receivers, two workers, duplicates everywhere, a worker killed.

Every job must end stored exactly once with the right SHA-256, whatever receiver heard of it
and however often, and the killed worker's half-done upload must not outlive it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config

from receiver import jobs
from receiver.config import Secret, Settings
from receiver.context import Context
from receiver.devtools.seaweed import SeaweedFS, free_ports
from receiver.providers.base import JobRequest
from receiver.tokens import CallbackClaims, CallbackSigner
from tests.conftest import SECRET_KEY, make_env, run_sql, s3_env
from tests.e2e.conftest import spawn, stop_process, wait_up

pytestmark = pytest.mark.e2e

JOBS = 50
MiB = 1024 * 1024


def kill_mid_upload(rows: list[dict[str, Any]], worker: subprocess.Popen[bytes]) -> bool:
    for row in rows:
        if row["upload_id"] and f":{worker.pid}:" in (row["lease_owner"] or ""):
            os.kill(worker.pid, signal.SIGKILL)
            return True
    return False


def cross_post(row: dict[str, Any], sim_port: int, port: int, signer: CallbackSigner) -> None:
    task = httpx.get(
        f"http://127.0.0.1:{sim_port}/v1/tasks/{row['task_id']}",
        headers={"Authorization": "Bearer sk-evo-scale"},
        timeout=10,
    ).json()
    url = signer.callback_url(
        f"http://127.0.0.1:{port}", CallbackClaims(provider="evolink", job_id=row["id"])
    )
    assert httpx.post(url, json=task, timeout=10).status_code == 200


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_receivers_two_workers_one_killed(
    tmp_path: Path, seaweedfs: SeaweedFS, database_url: str
) -> None:
    port_a, port_b, sim_port = free_ports(3)
    base = {
        **os.environ,
        **make_env(tmp_path, **s3_env(seaweedfs)),
        "RECEIVER_DATABASE_URL": database_url,
        "EVOLINK_BASE_URL": f"http://127.0.0.1:{sim_port}",
        "EVOLINK_API_KEY": "sk-evo-scale",
        "RECEIVER_PART_SIZE": "5MiB",
        "RECEIVER_LEASE_SECONDS": "3",
        "RECEIVER_ARCHIVE_CONCURRENCY": "2",
    }
    env_a = {**base, "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port_a}"}
    env_b = {**base, "RECEIVER_PUBLIC_URL": f"http://127.0.0.1:{port_b}"}
    processes: list[subprocess.Popen[bytes]] = []
    try:
        simulator = spawn(
            [
                "simulator",
                "--port",
                str(sim_port),
                "--api-key",
                "sk-evo-scale",
                "--allow-http-callbacks",
                "--delay",
                "0.5",
            ],
            base,
            tmp_path / "simulator.log",
        )
        processes.append(simulator)
        wait_up(
            f"http://127.0.0.1:{sim_port}/_simulator/config", simulator, tmp_path / "simulator.log"
        )
        httpx.patch(
            f"http://127.0.0.1:{sim_port}/_simulator/config",
            timeout=10,
            json={
                "video_bytes": 12 * MiB,
                "duplicate_callbacks": 1,
            },
        ).raise_for_status()
        for name, env, port in (("a", env_a, port_a), ("b", env_b, port_b)):
            log = tmp_path / f"receiver-{name}.log"
            receiver = spawn(["serve", "--port", str(port), "--no-worker"], env, log)
            processes.append(receiver)
            wait_up(f"http://127.0.0.1:{port}/healthz", receiver, log)
        workers = [spawn(["worker"], base, tmp_path / f"worker-{n}.log") for n in (1, 2)]
        processes += workers

        # Half the jobs call back receiver A, half receiver B.
        ids: list[str] = []
        for env in (env_a, env_b):
            ctx = Context(Settings.from_env(env))
            ids += [
                jobs.submit_job(ctx, JobRequest(prompt=f"clip {n}")).id for n in range(JOBS // 2)
            ]
            ctx.close()

        ctx = Context(Settings.from_env(base))
        signer = CallbackSigner([Secret(SECRET_KEY)], max_age=3600)
        cross_posted: set[str] = set()
        killed = False
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            rows = run_sql(
                ctx.db,
                "SELECT j.id, j.task_id, j.status, j.created_at, t.upload_id, "
                "t.lease_owner FROM jobs j LEFT JOIN archive_tasks t ON t.job_id = j.id",
            )
            # Kill worker 1 in the middle of an upload, once.
            killed = killed or kill_mid_upload(rows, workers[0])
            # Every completed task is also delivered to the *other* receiver.
            for row in rows:
                if row["status"] in {"completed", "stored"} and row["id"] not in cross_posted:
                    other = port_b if ids.index(row["id"]) < JOBS // 2 else port_a
                    cross_post(row, sim_port, other, signer)
                    cross_posted.add(row["id"])
            if sum(1 for row in rows if row["status"] == "stored") == JOBS and killed:
                break
            time.sleep(0.2)
        assert killed, "no upload was caught in flight"

        stored = run_sql(
            ctx.db,
            "SELECT j.id, j.task_id, a.object_key, a.sha256, a.size_bytes "
            "FROM jobs j JOIN assets a ON a.job_id = j.id",
        )
        assert len(stored) == JOBS
        stats = httpx.get(f"http://127.0.0.1:{sim_port}/_simulator/stats", timeout=10).json()
        for row in stored:
            assert row["sha256"] == stats["tasks"][row["task_id"]]["sha256"]
            assert row["size_bytes"] == 12 * MiB
        accepted = run_sql(
            ctx.db,
            "SELECT job_id, COUNT(*) AS n FROM deliveries "
            "WHERE outcome = 'accepted' GROUP BY job_id",
        )
        assert sorted(row["n"] for row in accepted) == [1] * JOBS
        duplicates = run_sql(
            ctx.db, "SELECT COUNT(*) AS n FROM deliveries WHERE outcome = 'duplicate'"
        )
        assert duplicates[0]["n"] >= 2 * JOBS  # the provider's duplicate and the cross-post

        s3 = boto3.client(
            "s3",
            endpoint_url=seaweedfs.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=seaweedfs.credentials.access_key,
            aws_secret_access_key=seaweedfs.credentials.secret_key,
            config=Config(s3={"addressing_style": "path"}),
        )
        bucket = base["RECEIVER_S3_BUCKET"]
        listed = s3.list_objects_v2(Bucket=bucket, MaxKeys=1000).get("Contents", [])
        assert sorted(o["Key"] for o in listed) == sorted(row["object_key"] for row in stored)
        # Workers abort uploads they find abandoned when they take a task over; the last
        # ones may be aborted only as the surviving worker finishes: give it a moment.
        for _ in range(50):
            if not s3.list_multipart_uploads(Bucket=bucket).get("Uploads"):
                break
            time.sleep(0.2)
        assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
        ctx.close()
    finally:
        for process in processes:
            stop_process(process)
