"""A Kling job through the whole receiver, unchanged: intake, deduplication, archive, events,
replay and the watchdog, against the simulator's Kling dialect.

Real parts everywhere (the receiver app with its worker on a loopback port, SeaweedFS, the
database on both engines); only the provider is the simulator.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from receiver import clock
from receiver.config import Settings
from receiver.context import Context
from receiver.devtools.seaweed import SeaweedFS, free_ports
from receiver.devtools.simulator import SimulatorConfig, create_app
from receiver.jobs import JobDetails, get_job, submit_job
from receiver.providers.base import JobRequest
from receiver.replay import replay
from receiver.runtime import web_app
from receiver.watchdog import Watchdog
from tests.conftest import make_env, s3_env
from tests.servers import run_server

pytestmark = pytest.mark.integration

ACCESS_KEY = "ak-kling-flow"
SECRET_KEY = "sk-kling-flow-" + "s" * 24


def _simulator_config(**changes: Any) -> SimulatorConfig:
    return SimulatorConfig(
        kling_access_key=ACCESS_KEY,
        kling_secret_key=SECRET_KEY,
        delay=0.4,
        retry_delays=(0.05, 0.1, 0.2),
        callback_timeout=5.0,
        allow_http_callbacks=True,
        allow_private_callbacks=True,
        **changes,
    )


@contextmanager
def receiver_for(
    tmp_path: Path,
    seaweedfs: SeaweedFS,
    database_url: str,
    simulator_url: str,
    **overrides: str,
) -> Iterator[Context]:
    """A receiver (app + worker) on a loopback port, configured for Kling on the simulator."""
    (port,) = free_ports(1)
    env = make_env(
        tmp_path,
        **s3_env(seaweedfs),
        RECEIVER_DATABASE_URL=database_url,
        RECEIVER_PUBLIC_URL=f"http://127.0.0.1:{port}",
        RECEIVER_PART_SIZE="5MiB",
        KLING_ACCESS_KEY=ACCESS_KEY,
        KLING_SECRET_KEY=SECRET_KEY,
        KLING_BASE_URL=simulator_url,
    )
    env.update(overrides)
    ctx = Context(Settings.from_env(env))
    with ctx, run_server(web_app(ctx, archive=True), port=port):
        yield ctx


def wait_until(ctx: Context, job_id: str, done: Callable[[JobDetails], bool]) -> JobDetails:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        details = get_job(ctx, job_id)
        if done(details):
            return details
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} got stuck: {get_job(ctx, job_id)}")


def sim_stats(simulator_url: str, task_id: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{simulator_url}/_simulator/stats").json()["tasks"]
    return dict(stats[task_id])


def test_a_kling_job_is_archived_once_whatever_kling_sends(
    tmp_path: Path, seaweedfs: SeaweedFS, database_url: str
) -> None:
    # The response to the first callback is "lost" (Kling retries it) and every delivered
    # callback comes twice: processing and succeed both arrive more than once.
    config = _simulator_config(callback_fail_first=1, duplicate_callbacks=1)
    with (
        run_server(create_app(config)) as simulator_url,
        receiver_for(tmp_path, seaweedfs, database_url, simulator_url) as ctx,
    ):
        job = submit_job(ctx, JobRequest(prompt="a heron in the rain"), provider_name="kling")
        assert job.status == "pending"
        assert job.provider == "kling"
        assert job.model == "kling-v3"
        assert job.task_id

        def settled(details: JobDetails) -> bool:
            stats = sim_stats(simulator_url, str(details.job.task_id))
            return details.job.status == "stored" and stats["callback_state"] == "delivered"

        details = wait_until(ctx, job.id, settled)
        stats = sim_stats(simulator_url, str(job.task_id))

        asset = details.asset
        assert asset is not None
        assert asset.sha256 == stats["sha256"]
        stored = hashlib.sha256(b"".join(ctx.store.read(asset.object_key))).hexdigest()
        assert stored == stats["sha256"]
        assert stats["downloads"] == 1

        # Every callback landed on the Kling route, in order, and only the first of each
        # status moved the job.
        attempts = stats["callback_attempts"]
        assert [a["status"] for a in attempts] == ["processing"] * 3 + ["completed"] * 2
        by_status: dict[str, list[str]] = {}
        for delivery in details.deliveries:
            assert delivery.provider == "kling"
            by_status.setdefault(str(delivery.provider_status), []).append(delivery.outcome)
        assert sorted(by_status["processing"]) == ["accepted", "duplicate", "duplicate"]
        assert sorted(by_status["succeed"]) == ["accepted", "duplicate"]
        types = [e.type for e in details.events if e.type != "archive.progress"]
        assert types == ["job.submitted", "job.processing", "job.completed", "asset.stored"]

        # Replaying the accepted completion changes nothing and downloads nothing.
        accepted = next(
            d.id
            for d in details.deliveries
            if d.provider_status == "succeed" and d.outcome == "accepted"
        )
        assert replay(ctx, accepted).verdict == "already_done"
        assert sim_stats(simulator_url, str(job.task_id))["downloads"] == 1


def test_the_watchdog_recovers_a_kling_job_whose_callbacks_were_lost(
    tmp_path: Path, seaweedfs: SeaweedFS, database_url: str
) -> None:
    with (
        run_server(create_app(_simulator_config())) as simulator_url,
        receiver_for(
            tmp_path,
            seaweedfs,
            database_url,
            simulator_url,
            # Every callback goes nowhere; the worker confirms with Kling before downloading.
            RECEIVER_PUBLIC_URL="http://127.0.0.1:9",
            RECEIVER_CONFIRM_WITH_PROVIDER="1",
        ) as ctx,
    ):
        # An image job: its task lives on the image2video route, found by the fallback.
        job = submit_job(
            ctx,
            JobRequest(prompt="it moves", image_url="https://images.example.com/frame.png"),
            provider_name="kling",
        )
        task_id = str(job.task_id)

        def lost() -> bool:
            # Finished, and its last callback (the final one) given up on.
            stats = sim_stats(simulator_url, task_id)
            return bool(stats["status"] == "completed" and stats["callback_state"] == "gave_up")

        deadline = time.monotonic() + 30
        while not lost():
            assert time.monotonic() < deadline, sim_stats(simulator_url, task_id)
            time.sleep(0.1)
        assert get_job(ctx, job.id).job.status == "pending"

        summary = Watchdog(ctx.db, ctx.settings, ctx.provider).run_once(
            submitted_before=clock.now()
        )
        assert (summary.checked, summary.recovered) == (1, 1)
        details = wait_until(ctx, job.id, lambda d: d.job.status == "stored")
        assert [d.source for d in details.deliveries] == ["reconcile"]
        assert "job.confirmed" in [e.type for e in details.events]
        assert sim_stats(simulator_url, task_id)["downloads"] == 1
