"""What a failed archive attempt leads to: retry later, fail for good, or expire.

Pure, no I/O, like :func:`receiver.lifecycle.decide`: the attempt asks :func:`decide` and
applies the answer in one transaction, a compare-and-set on its lease. A failure is retried
with exponential backoff and jitter for as long as the provider's link lives (the last try a
little before it dies rather than not at all), unless it can never succeed or the attempts
are used up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from receiver.errors import ConfirmationError, FetchError, LinkExpired, ObjectConflict, StorageError
from receiver.store.records import ArchiveTask

__all__ = [
    "MAX_BACKOFF",
    "Decision",
    "Expire",
    "Fail",
    "Failure",
    "Limits",
    "Retry",
    "backoff",
    "decide",
    "jittered_backoff",
]

#: What an attempt may fail with and still be decided on (anything else is wrapped first).
Failure = FetchError | StorageError | ConfirmationError

#: Retries go on, at most this far apart (seconds), until the provider's link dies.
MAX_BACKOFF = 600.0


@dataclass(frozen=True, kw_only=True)
class Limits:
    max_attempts: int
    #: How long before the link's deadline the last retry is made.
    last_try: timedelta = timedelta(seconds=30)
    max_backoff: float = MAX_BACKOFF


@dataclass(frozen=True, kw_only=True)
class Retry:
    """Queue the task again for ``at`` (``delay`` seconds from now, or earlier near the end)."""

    at: datetime
    delay: float
    error: str


@dataclass(frozen=True, kw_only=True)
class Fail:
    """Give up: the job is flagged with ``attention``; the task keeps ``error``."""

    error: str
    attention: str


@dataclass(frozen=True, kw_only=True)
class Expire:
    """The link is dead (or will be before a retry could come): the job ends expired."""

    reason: str


Decision = Retry | Fail | Expire


def decide(
    task: ArchiveTask, failure: Failure, now: datetime, limits: Limits, *, jitter: float
) -> Decision:
    """What ``failure`` of ``task``'s latest attempt leads to, at ``now``.

    ``jitter`` (in [0, 1)) spreads the retries of many jobs that failed together.
    """
    if isinstance(failure, LinkExpired):
        return Expire(reason=failure.message)
    permanent = isinstance(failure, ObjectConflict) or (
        isinstance(failure, FetchError | ConfirmationError) and failure.permanent
    )
    delay = backoff(task.attempts, jitter=jitter, most=limits.max_backoff)
    if isinstance(failure, ConfirmationError):
        delay = max(delay, failure.retry_after)
    # The last try comes a little before the link dies rather than not at all.
    retry_at = min(now + timedelta(seconds=delay), task.deadline_at - limits.last_try)
    if not permanent and retry_at <= now:
        return Expire(reason=f"the link expired while retrying: {failure.message}")
    if permanent or task.attempts >= limits.max_attempts:
        return Fail(
            error=failure.message,
            attention=f"archiving failed after {task.attempts} attempt(s): {failure.message}",
        )
    return Retry(at=retry_at, delay=delay, error=failure.message)


def backoff(attempts: int, *, jitter: float, most: float = MAX_BACKOFF) -> float:
    """Exponential backoff with jitter: 1-2 s, 2-4 s, 4-8 s ... never more than ``most``."""
    base = 2.0 ** max(0, attempts - 1)
    return min(most, base * (1 + jitter))


def jittered_backoff(attempts: int) -> float:
    """:func:`backoff` with a random jitter: what a retry of attempt ``attempts`` waits."""
    return backoff(attempts, jitter=random.random())  # noqa: S311 - jitter, not crypto
