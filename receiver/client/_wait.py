"""Waiting for jobs, without I/O: which jobs are still open, what decides one, the deadline.

A wait reads each job once, then follows the event stream from a point read *before* those
jobs were read, so a job decided in between is either seen decided or its deciding event is
still ahead on the stream: nothing is missed, and nothing is asked twice (no polling). The
deadline is checked by the shells while they block, not only when an event arrives.
"""

from __future__ import annotations

import time

from receiver.client._exceptions import WaitTimeout
from receiver.client._models import DECIDING_EVENTS, Event, Job

__all__ = ["WaitPlan"]


class WaitPlan:
    def __init__(self, job_ids: list[str], timeout: float | None) -> None:
        if timeout is not None and not timeout >= 0:
            raise ValueError("timeout must be a number of seconds, at least 0")
        self.pending: dict[str, None] = dict.fromkeys(job_ids)
        self._timeout = timeout
        self._deadline = time.monotonic() + timeout if timeout is not None else None

    @property
    def single(self) -> str | None:
        """The job whose events alone the stream should carry, when there is one."""
        return next(iter(self.pending)) if len(self.pending) == 1 else None

    def remaining(self) -> float | None:
        """Seconds left (None: no deadline); raises :class:`WaitTimeout` when none are."""
        if self._deadline is None:
            return None
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise self.timed_out()
        return left

    def expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline

    def timed_out(self) -> WaitTimeout:
        pending = tuple(self.pending)
        what = ", ".join(pending[:5]) + (
            f" and {len(pending) - 5} more" if len(pending) > 5 else ""
        )
        return WaitTimeout(f"gave up waiting for {what} after {self._timeout:g} s", pending=pending)

    def settle(self, job: Job) -> bool:
        """Whether ``job`` is decided (and so no longer waited for)."""
        if job.id in self.pending and job.decided:
            del self.pending[job.id]
            return True
        return False

    def deciding(self, event: Event) -> bool:
        """Whether ``event`` may decide a job still waited for (the job is then read)."""
        return event.job_id in self.pending and event.type in DECIDING_EVENTS
