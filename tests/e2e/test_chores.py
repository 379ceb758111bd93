"""Proof of life: every chore runs in the shipped processes, seen from the outside only.

Each test starts the real commands (``receiver serve``; ``receiver serve --no-worker`` with
two ``receiver worker``s on PostgreSQL) with short chore intervals, and observes every
chore's effect through public interfaces: notifications arriving at a local endpoint and
verified with the documented secret format, the CLI (``show``, ``deliveries``), the log and
``/metrics``. Nothing here calls a chore itself.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from receiver.devtools.seaweed import free_ports
from tests.e2e.conftest import Stack, spawn, stop_process, wait_up
from tests.webhooks import Subscriber, new_secret, subscriber

pytestmark = pytest.mark.e2e

SECRET = new_secret()

#: Every chore on a short leash. The deadline warning fires for any unfinished archive
#: (links live 24 h), and the simulator's first downloads fail so archives stay unfinished
#: for a few seconds.
CHORES = {
    "RECEIVER_NOTIFY_SECRET": SECRET,
    "RECEIVER_WATCHDOG_GRACE": "1s",
    "RECEIVER_WATCHDOG_INTERVAL": "1s",
    "RECEIVER_REJECTED_RETENTION": "5s",
    "RECEIVER_PURGE_INTERVAL": "1s",
    "RECEIVER_DEADLINE_WARNING": "25h",
    "RECEIVER_DEADLINE_CHECK_INTERVAL": "1s",
    "RECEIVER_NOTIFY_INTERVAL": "0.2s",
}


#: Quick tasks, callbacks given up fast, and the first two downloads of each video failing.
PROVIDER = {
    "delay": 0.3,
    "retry_delays": [0.05, 0.05, 0.05],
    "estimated_time": 1,
    "video_fail_first": 2,
}


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def rejected(stack: Stack) -> list[dict[str, Any]]:
    out = stack.cli("deliveries", "--outcome", "rejected", "--json").stdout
    return [json.loads(line) for line in out.splitlines()]


def metric(url: str, name: str) -> float:
    text = httpx.get(url, timeout=5).text
    values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name)]
    return sum(values)


def submit(stack: Stack, prompt: str) -> str:
    job: dict[str, Any] = json.loads(stack.cli("submit", prompt, "--json").stdout)
    return str(job["id"])


def submit_while_down(stack: Stack, prompt: str) -> str:
    """A job whose callbacks all fail (the receiver is down) until the provider gives up."""
    stack.stop_receiver()
    job_id = submit(stack, prompt)

    def gave_up() -> bool:
        tasks = stack.simulator("GET", "/_simulator/stats")["tasks"].values()
        return any(task["callback_state"] == "gave_up" for task in tasks)

    wait_until(gave_up, "the provider to give up on the callback")
    return job_id


def assert_announced(endpoint: Subscriber, job: dict[str, Any]) -> None:
    payloads = [p for p in endpoint.payloads() if p["data"]["job"]["id"] == job["id"]]
    assert payloads, f"{job['id']} was never announced"
    for payload in payloads:
        assert payload["type"] == "asset.stored"
        assert payload["data"]["asset"]["sha256"] == job["asset"]["sha256"]


@pytest.fixture
def endpoints() -> Iterator[tuple[tuple[Subscriber, str], tuple[Subscriber, str]]]:
    with subscriber(SECRET) as first, subscriber(SECRET) as second:
        yield first, second


def test_serve_runs_every_chore(
    stack: Stack, endpoints: tuple[tuple[Subscriber, str], tuple[Subscriber, str]]
) -> None:
    (endpoint, url), _ = endpoints
    endpoint.answers = [500]  # the first notification fails once, and must come again
    stack.simulator("PATCH", "/_simulator/config", json=PROVIDER)
    job_id = submit_while_down(stack, "A lighthouse in fog")
    stack.start_receiver(**CHORES, RECEIVER_NOTIFY_URLS=url)

    # Junk at the callback route is logged as rejected, then purged after its retention.
    assert httpx.post(f"{stack.receiver_url}/callbacks/evolink/junk", json={}).status_code == 403
    assert len(rejected(stack)) == 1

    # The job whose callback never came is recovered by the watchdog by itself.
    job = stack.wait_for(job_id, "stored", timeout=90)
    assert [(d["source"], d["outcome"]) for d in job["deliveries"]] == [("reconcile", "accepted")]

    wait_until(lambda: rejected(stack) == [], "the rejected delivery to be purged")

    # The archive ran near (well, within 25 h of) its link's deadline: warned, once.
    log = (stack.tmp_path / "receiver.log").read_text()
    warnings = [json.loads(line) for line in log.splitlines() if "archive.deadline_near" in line]
    assert [w["job_id"] for w in warnings] == [job_id]
    metrics_url = f"{stack.receiver_url}/metrics"
    assert metric(metrics_url, "receiver_archive_deadline_warnings_total") == 1

    # The stored video is announced, signed; the failed first try came again, same id.
    wait_until(lambda: len(endpoint.ids()) == 2, "the notification and its retry")
    first_id, again_id = endpoint.ids()
    assert first_id == again_id
    assert endpoint.forged == 0
    assert_announced(endpoint, job)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_workers_share_the_chores_on_postgresql(
    stack: Stack,
    tmp_path: Path,
    endpoints: tuple[tuple[Subscriber, str], tuple[Subscriber, str]],
) -> None:
    (first, first_url), (second, second_url) = endpoints
    second.answers = [503]
    stack.simulator("PATCH", "/_simulator/config", json=PROVIDER)
    lost = submit_while_down(stack, "A kite nobody hears of")
    env = {**CHORES, "RECEIVER_NOTIFY_URLS": f"{first_url},{second_url}"}
    # The web process archives nothing and runs no chores: the workers do.
    stack.start_receiver("--no-worker", **env)
    workers = []
    metrics_ports = free_ports(2)
    try:
        for number, port in enumerate(metrics_ports):
            log = tmp_path / f"worker-{number}.log"
            worker = spawn(["worker", "--metrics-port", str(port)], stack.env, log)
            workers.append(worker)
            wait_up(f"http://127.0.0.1:{port}/metrics", worker, log)

        assert (
            httpx.post(f"{stack.receiver_url}/callbacks/evolink/junk", json={}).status_code == 403
        )
        jobs = [submit(stack, f"A kite over the dunes {n}") for n in range(4)]
        stored = {job_id: stack.wait_for(job_id, "stored", timeout=90) for job_id in [*jobs, lost]}
        assert [d["source"] for d in stored[lost]["deliveries"]] == ["reconcile"]
        wait_until(lambda: rejected(stack) == [], "the rejected delivery to be purged")

        # Each job warned about once, by one of the two workers; none by the web process.
        urls = [f"http://127.0.0.1:{port}/metrics" for port in metrics_ports]
        total = sum(metric(url, "receiver_archive_deadline_warnings_total") for url in urls)
        assert total == len(stored)
        web = metric(f"{stack.receiver_url}/metrics", "receiver_archive_deadline_warnings_total")
        assert web == 0

        # One notification per job per endpoint, sent by one worker; a failure is retried
        # with the same webhook-id.
        wait_until(lambda: len(set(first.ids())) == len(stored), "every job announced")
        wait_until(lambda: len(second.ids()) == len(stored) + 1, "the retry at the second")
        time.sleep(1.5)  # long enough for a duplicate send to show up
        assert sorted(Counter(first.ids()).values()) == [1] * len(stored)
        assert sorted(Counter(second.ids()).values()) == [1] * (len(stored) - 1) + [2]
        for job in stored.values():
            assert_announced(first, job)
            assert_announced(second, job)
        assert first.forged == second.forged == 0
    finally:
        for worker in workers:
            stop_process(worker)
