from __future__ import annotations

import pytest

from receiver.lifecycle import DeliveryOutcome, JobStatus, decide
from receiver.providers.base import TaskStatus

J, T, D = JobStatus, TaskStatus, DeliveryOutcome


@pytest.mark.parametrize(
    ("current", "incoming", "outcome", "to"),
    [
        (J.PENDING, T.PROCESSING, D.ACCEPTED, J.PROCESSING),
        (J.PENDING, T.COMPLETED, D.ACCEPTED, J.COMPLETED),
        (J.PROCESSING, T.COMPLETED, D.ACCEPTED, J.COMPLETED),
        (J.PROCESSING, T.FAILED, D.ACCEPTED, J.FAILED),
        (J.PENDING, T.CANCELLED, D.ACCEPTED, J.CANCELLED),
        # A callback that beats the create answer, or follows a create we thought failed.
        (J.SUBMITTING, T.COMPLETED, D.ACCEPTED, J.COMPLETED),
        (J.SUBMIT_FAILED, T.COMPLETED, D.ACCEPTED, J.COMPLETED),
        # Retries of what was already applied.
        (J.COMPLETED, T.COMPLETED, D.DUPLICATE, None),
        (J.STORED, T.COMPLETED, D.DUPLICATE, None),
        (J.EXPIRED, T.COMPLETED, D.DUPLICATE, None),
        (J.FAILED, T.FAILED, D.DUPLICATE, None),
        # Late arrivals never move a job backwards.
        (J.COMPLETED, T.PROCESSING, D.STALE, None),
        (J.STORED, T.PENDING, D.STALE, None),
        (J.PROCESSING, T.PENDING, D.STALE, None),
        # Conflicting final statuses: the first one stands.
        (J.COMPLETED, T.FAILED, D.STALE, None),
        (J.FAILED, T.COMPLETED, D.STALE, None),
        (J.PENDING, T.UNKNOWN, D.UNKNOWN_STATUS, None),
        (J.STORED, T.UNKNOWN, D.UNKNOWN_STATUS, None),
    ],
)
def test_decide(
    current: JobStatus, incoming: TaskStatus, outcome: DeliveryOutcome, to: JobStatus | None
) -> None:
    transition = decide(current, incoming)
    assert transition.outcome == outcome
    assert transition.to == to


def test_every_pair_is_decided_and_only_moves_forward() -> None:
    order = [J.SUBMITTING, J.PENDING, J.PROCESSING, J.COMPLETED, J.STORED]
    for current in JobStatus:
        for incoming in TaskStatus:
            transition = decide(current, incoming)
            if transition.to is not None:
                assert transition.outcome == D.ACCEPTED
                assert not current.is_final or current == J.SUBMIT_FAILED
                if current in order and transition.to in order:
                    assert order.index(transition.to) > order.index(current)
            else:
                assert transition.reason
