"""The job state machine: which provider status may move a job where.

Pure functions, no I/O: the intake asks :func:`decide` what a snapshot means for a job in
its current state, then applies the answer with a compare-and-set on that state, so the
database, not a Python lock, settles races between concurrent deliveries.

::

    submitting ─► pending ─► processing ─► completed ─► stored
         │                        │    └──► failed      └──► expired
         └─► submit_failed        └───────► cancelled

A status only ever moves a job forward. A retry of a status already applied is a
*duplicate*; an older status arriving late (``processing`` after ``completed``) is *stale*;
a status we do not know is recorded and flags the job for a person, never guessed at.
``submit_failed`` ranks with ``submitting``: a create that timed out on our side may still
have reached the provider, and its callback must then be welcome.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from receiver.providers.base import TaskStatus

__all__ = ["DeliveryOutcome", "JobStatus", "Transition", "decide"]


class JobStatus(enum.StrEnum):
    SUBMITTING = "submitting"
    SUBMIT_FAILED = "submit_failed"
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STORED = "stored"
    EXPIRED = "expired"

    @property
    def is_final(self) -> bool:
        """Nothing more will happen to the job by itself."""
        return self in _FINAL


class DeliveryOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    STALE = "stale"
    UNKNOWN_STATUS = "unknown_status"
    REJECTED = "rejected"


_FINAL = frozenset(
    {
        JobStatus.SUBMIT_FAILED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
        JobStatus.STORED,
        JobStatus.EXPIRED,
    }
)
_RANK = {
    JobStatus.SUBMITTING: 0,
    JobStatus.SUBMIT_FAILED: 0,
    JobStatus.PENDING: 1,
    JobStatus.PROCESSING: 2,
    JobStatus.COMPLETED: 3,
    JobStatus.FAILED: 3,
    JobStatus.CANCELLED: 3,
    JobStatus.STORED: 4,
    JobStatus.EXPIRED: 4,
}
_TARGET = {
    TaskStatus.PENDING: JobStatus.PENDING,
    TaskStatus.PROCESSING: JobStatus.PROCESSING,
    TaskStatus.COMPLETED: JobStatus.COMPLETED,
    TaskStatus.FAILED: JobStatus.FAILED,
    TaskStatus.CANCELLED: JobStatus.CANCELLED,
}
# What the archiver makes of a completed job; a "completed" arriving then is a retry.
_AFTER_COMPLETED = frozenset({JobStatus.STORED, JobStatus.EXPIRED})


@dataclass(frozen=True)
class Transition:
    outcome: DeliveryOutcome
    #: The status to move to, when the outcome is ACCEPTED.
    to: JobStatus | None = None
    reason: str | None = None


def decide(current: JobStatus, incoming: TaskStatus) -> Transition:
    """What a provider status means for a job currently in ``current``."""
    target = _TARGET.get(incoming)
    if target is None:
        return Transition(
            DeliveryOutcome.UNKNOWN_STATUS, reason="the provider sent a status we do not know"
        )
    if target == current or (target == JobStatus.COMPLETED and current in _AFTER_COMPLETED):
        return Transition(DeliveryOutcome.DUPLICATE, reason=f"the job is already {current}")
    if _RANK[target] <= _RANK[current]:
        return Transition(
            DeliveryOutcome.STALE, reason=f"{incoming} arrived after the job was {current}"
        )
    return Transition(DeliveryOutcome.ACCEPTED, to=target)
