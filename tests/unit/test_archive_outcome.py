"""What a failed archive attempt leads to: retry, fail or expire (a pure decision)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from receiver.archive.outcome import Decision, Expire, Fail, Failure, Limits, Retry, decide
from receiver.errors import (
    ConfirmationError,
    FetchError,
    LinkExpired,
    ObjectConflict,
    StorageError,
    UnsafeURL,
)
from receiver.store.records import ArchiveTask

NOW = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
LIMITS = Limits(max_attempts=25)
HOUR = 3600.0


def task(attempts: int, deadline_in: float) -> ArchiveTask:
    return ArchiveTask(
        job_id="job_1",
        state="running",
        source_url="https://cdn.example.com/v.mp4",
        attempts=attempts,
        not_before=NOW,
        deadline_at=NOW + timedelta(seconds=deadline_in),
        lease_owner="w",
        lease_expires_at=NOW + timedelta(minutes=5),
        last_error=None,
    )


def retry(in_seconds: float, error: str, *, delay: float | None = None) -> Retry:
    return Retry(
        at=NOW + timedelta(seconds=in_seconds),
        delay=in_seconds if delay is None else delay,
        error=error,
    )


def failed(attempts: int, error: str) -> Fail:
    return Fail(error=error, attention=f"archiving failed after {attempts} attempt(s): {error}")


@pytest.mark.parametrize(
    ("attempts", "deadline_in", "failure", "jitter", "expected"),
    [
        # A passing failure is retried, 1-2 s after the first attempt, doubling each time.
        (1, HOUR, FetchError("answered 500"), 0.0, retry(1, "answered 500")),
        (1, HOUR, FetchError("answered 500"), 0.5, retry(1.5, "answered 500")),
        (3, HOUR, StorageError("store down"), 0.5, retry(6, "store down")),
        (4, HOUR, FetchError("cut short"), 0.0, retry(8, "cut short")),
        # ... never more than ten minutes apart.
        (20, 10 * HOUR, FetchError("answered 503"), 0.9, retry(600, "answered 503")),
        # A rate-limited provider is asked again no sooner than it said.
        (1, HOUR, ConfirmationError("slow down", retry_after=120), 0.0, retry(120, "slow down")),
        (4, HOUR, ConfirmationError("slow down", retry_after=2), 0.0, retry(8, "slow down")),
        # Close to the deadline the last try comes a little before it, not after.
        (10, 300, FetchError("answered 500"), 0.0, retry(270, "answered 500", delay=512)),
        # A dead link, or one that will be dead before a retry could come, expires the job.
        (1, HOUR, LinkExpired("answered 403"), 0.0, Expire(reason="answered 403")),
        (25, HOUR, LinkExpired("gone"), 0.0, Expire(reason="gone")),
        (
            1,
            20,
            FetchError("answered 500"),
            0.0,
            Expire(reason="the link expired while retrying: answered 500"),
        ),
        (
            2,
            -5,
            StorageError("store down"),
            0.0,
            Expire(reason="the link expired while retrying: store down"),
        ),
        # What can never succeed fails at once, deadline or not.
        (1, HOUR, FetchError("answered 404", permanent=True), 0.0, failed(1, "answered 404")),
        (1, HOUR, UnsafeURL("not a public address"), 0.0, failed(1, "not a public address")),
        (1, HOUR, ObjectConflict("different object"), 0.0, failed(1, "different object")),
        (1, 20, ObjectConflict("different object"), 0.0, failed(1, "different object")),
        (
            2,
            HOUR,
            ConfirmationError("no such task", permanent=True),
            0.0,
            failed(2, "no such task"),
        ),
        # The attempts run out.
        (25, 10 * HOUR, FetchError("answered 500"), 0.0, failed(25, "answered 500")),
        (26, 10 * HOUR, StorageError("store down"), 0.0, failed(26, "store down")),
    ],
)
def test_decide(
    attempts: int, deadline_in: float, failure: Failure, jitter: float, expected: Decision
) -> None:
    assert decide(task(attempts, deadline_in), failure, NOW, LIMITS, jitter=jitter) == expected


def test_a_retry_is_never_after_the_last_try_and_never_in_the_past() -> None:
    for attempts in range(1, LIMITS.max_attempts):
        for deadline_in in (31.0, 45.0, 120.0, 900.0, HOUR, 24 * HOUR):
            for jitter in (0.0, 0.25, 0.999):
                decision = decide(
                    task(attempts, deadline_in), FetchError("x"), NOW, LIMITS, jitter=jitter
                )
                assert isinstance(decision, Retry)
                assert (
                    NOW < decision.at <= task(attempts, deadline_in).deadline_at - LIMITS.last_try
                )
