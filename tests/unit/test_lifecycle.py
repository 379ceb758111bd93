from __future__ import annotations

import pytest

from receiver.lifecycle import DeliveryOutcome, JobStatus, decide
from receiver.providers.base import TaskStatus

J, T, O = JobStatus, TaskStatus, DeliveryOutcome


@pytest.mark.parametrize(
    ("current", "incoming", "outcome", "to"),
    [
        (J.PENDING, T.PROCESSING, O.ACCEPTED, J.PROCESSING),
        (J.PENDING, T.COMPLETED, O.ACCEPTED, J.COMPLETED),
        (J.PROCESSING, T.COMPLETED, O.ACCEPTED, J.COMPLETED),
        (J.PROCESSING, T.FAILED, O.ACCEPTED, J.FAILED),
        (J.PENDING, T.CANCELLED, O.ACCEPTED, J.CANCELLED),
        # A callback that beats the create answer, or follows a create we thought failed.
        (J.SUBMITTING, T.COMPLETED, O.ACCEPTED, J.COMPLETED),
        (J.SUBMIT_FAILED, T.COMPLETED, O.ACCEPTED, J.COMPLETED),
        # Retries of what was already applied.
        (J.COMPLETED, T.COMPLETED, O.DUPLICATE, None),
        (J.STORED, T.COMPLETED, O.DUPLICATE, None),
        (J.EXPIRED, T.COMPLETED, O.DUPLICATE, None),
        (J.FAILED, T.FAILED, O.DUPLICATE, None),
        # Late arrivals never move a job backwards.
        (J.COMPLETED, T.PROCESSING, O.STALE, None),
        (J.STORED, T.PENDING, O.STALE, None),
        (J.PROCESSING, T.PENDING, O.STALE, None),
        # Conflicting final statuses: the first one stands.
        (J.COMPLETED, T.FAILED, O.STALE, None),
        (J.FAILED, T.COMPLETED, O.STALE, None),
        (J.PENDING, T.UNKNOWN, O.UNKNOWN_STATUS, None),
        (J.STORED, T.UNKNOWN, O.UNKNOWN_STATUS, None),
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
                assert transition.outcome == O.ACCEPTED
                assert not current.is_final or current == J.SUBMIT_FAILED
                if current in order and transition.to in order:
                    assert order.index(transition.to) > order.index(current)
            else:
                assert transition.reason
