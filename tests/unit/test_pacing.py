"""The shared 429 pause of a batch, on a clock of our own."""

from __future__ import annotations

import itertools

from receiver.submission.pacing import Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_429_pauses_every_thread_for_retry_after() -> None:
    clock = FakeClock()
    pacer = Pacer(sleep=clock.sleep, monotonic=lambda: clock.now)
    pacer.wait_turn()
    assert clock.slept == []
    assert pacer.back_off(0, retry_after=60)
    pacer.wait_turn()
    # Retry-After, plus up to a fifth of jitter.
    assert 60 <= sum(clock.slept) <= 72
    slept = len(clock.slept)
    pacer.wait_turn()  # the pause is over: the next one goes at once
    assert len(clock.slept) == slept
    assert pacer.rate_limited == 1


def test_a_job_refused_again_waits_longer_up_to_the_cap() -> None:
    clock = FakeClock()
    pacer = Pacer(sleep=clock.sleep, monotonic=lambda: clock.now, max_pause=300)
    pauses = []
    for attempt in range(6):
        start = clock.now
        assert pacer.back_off(attempt, retry_after=10)
        pacer.wait_turn()
        pauses.append(clock.now - start)
    assert 10 <= pauses[0] <= 12
    assert 40 <= pauses[2] <= 48
    assert all(later >= earlier for earlier, later in itertools.pairwise(pauses))
    assert pauses[-1] <= 300 * 1.2


def test_retries_run_out() -> None:
    clock = FakeClock()
    pacer = Pacer(sleep=clock.sleep, monotonic=lambda: clock.now, max_retries=2)
    assert pacer.back_off(1, retry_after=1)
    assert not pacer.back_off(2, retry_after=1)
