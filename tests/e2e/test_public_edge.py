"""The public edge against the real ``receiver serve``: what one request from anyone can cost.

Each attack of docs/security.md, as a user of the internet would mount it: a flood of
headers, a request head trickled a byte at a time, an unbound callback URL used to make us
adopt jobs and download what it names, and a video source that trickles.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def address(stack: Stack) -> tuple[str, int]:
    host, port = stack.receiver_url.removeprefix("http://").split(":")
    return host, int(port)


def answer_to(stack: Stack, head: bytes) -> bytes:
    """What the server answers to a request head sent as is (refusals may cut us short)."""
    with socket.create_connection(address(stack), timeout=10) as sock:
        # A refusal may come, and the connection close, before all of it was read.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(head)
        try:
            return sock.recv(4096)
        except ConnectionResetError:
            return b""


def rejected(stack: Stack) -> list[dict[str, Any]]:
    out = stack.cli("deliveries", "--outcome", "rejected", "--json").stdout
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_head_is_bounded_in_size_count_and_time(stack: Stack) -> None:
    stack.stop_receiver()
    stack.start_receiver(RECEIVER_REQUEST_TIMEOUT="2s")
    start = b"POST /callbacks/evolink/junk HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n"
    many = b"".join(b"x-h%d: v\r\n" % n for n in range(150))
    assert answer_to(stack, start + many + b"\r\n{}").startswith(b"HTTP/1.1 431")
    huge = b"".join(b"x-big-%d: %s\r\n" % (n, b"v" * 1024) for n in range(10_000))
    answer = answer_to(stack, start + huge + b"\r\n{}")
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431")
    # Neither reached the app, so neither cost a row.
    assert rejected(stack) == []

    # A head trickled a byte at a time is cut off after RECEIVER_REQUEST_TIMEOUT.
    with socket.create_connection(address(stack), timeout=10) as sock:
        sock.sendall(b"POST /callbacks/evolink/junk HTTP/1.1\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 8:
            try:
                sock.sendall(b"x")
                time.sleep(0.25)
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        assert closed, "the server kept a trickling connection open"
        assert time.monotonic() - started < 6
    # Within the limits, the server still answers.
    assert httpx.get(f"{stack.receiver_url}/healthz", timeout=5).status_code == 200


def post_task(url: str, task_id: str) -> httpx.Response:
    """A completed task's callback, as the provider would send it to ``url``."""
    body = {
        "id": task_id,
        "object": "video.generation.task",
        "status": "completed",
        "model": "kling-v3-turbo-text-to-video",
        "progress": 100,
        "results": ["https://203.0.113.9/anything.mp4"],
    }
    return httpx.post(url, json=body, timeout=10)


def test_an_unbound_url_adopts_only_what_the_provider_confirms_and_only_so_many(
    stack: Stack,
) -> None:
    stack.stop_receiver()
    # Without a provider key nothing can be confirmed: an unbound URL adopts nothing.
    stack.start_receiver(EVOLINK_API_KEY="")
    url = stack.cli("callback-url", "--label", "open").stdout.strip()
    refused = post_task(url, "task-stranger-1")
    assert refused.status_code == 403
    assert refused.json()["error"] == "unconfirmable"
    assert stack.cli("jobs", "--json").stdout == ""

    # With a key, adoption is confirmed first, and one URL adopts at most the limit a day.
    stack.stop_receiver()
    stack.start_receiver(EVOLINK_API_KEY="sk-evo-e2e", RECEIVER_ADOPT_LIMIT="2")
    answers = [post_task(url, f"task-stranger-{n}").status_code for n in range(2, 6)]
    assert answers == [200, 200, 429, 429]
    assert len(stack.cli("jobs", "--json").stdout.splitlines()) == 2
    # Another URL has a budget of its own; a known task is no new adoption.
    other = stack.cli("callback-url", "--label", "other").stdout.strip()
    assert post_task(other, "task-stranger-6").status_code == 200
    assert post_task(url, "task-stranger-2").status_code == 200


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_trickling_source_fails_the_attempt_instead_of_holding_a_thread(stack: Stack) -> None:
    stack.stop_receiver()
    stack.start_receiver(
        RECEIVER_FETCH_MIN_RATE="1MiB",
        RECEIVER_FETCH_RATE_WINDOW="1s",
        RECEIVER_ARCHIVE_MAX_ATTEMPTS="1",
    )
    stack.simulator(
        "PATCH",
        "/_simulator/config",
        json={"video_bytes": 4 * 1024 * 1024, "video_bytes_per_second": 64 * 1024},
    )
    job = json.loads(stack.cli("submit", "A snail", "--json").stdout)
    deadline = time.monotonic() + 60
    while "archive.failed" not in [event["type"] for event in stack.show(job["id"])["events"]]:
        assert time.monotonic() < deadline, "the trickling download was never given up"
        time.sleep(0.3)
    shown = stack.show(job["id"])
    assert "slower than RECEIVER_FETCH_MIN_RATE" in shown["attention"]
    assert shown["asset"] is None
