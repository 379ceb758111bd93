"""The archive worker's retry schedule: exponential, jittered, never more than 10 minutes."""

from __future__ import annotations

import pytest

from receiver.archive.outcome import jittered_backoff as _backoff


@pytest.mark.parametrize(
    ("attempt", "low", "high"), [(1, 1, 2), (2, 2, 4), (3, 4, 8), (9, 256, 512)]
)
def test_each_attempt_waits_between_its_base_and_twice_it(
    attempt: int, low: int, high: int
) -> None:
    delays = [_backoff(attempt) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 100  # jittered: retries of many jobs do not come in step


def test_no_wait_is_ever_longer_than_ten_minutes() -> None:
    assert max(_backoff(attempt) for attempt in range(1, 80) for _ in range(20)) <= 600
