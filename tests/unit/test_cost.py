"""Prices by the provider's documented rule, checked against sums done by hand."""

from __future__ import annotations

import pytest

from receiver.providers.base import JobRequest
from receiver.providers.evolink_protocol import credits_for, validate_request
from receiver.submission.cost import estimate_credits


@pytest.mark.parametrize(
    ("duration", "quality", "model", "credits"),
    [
        (5, "720p", None, 36.0),  # the documentation's own example: 7.2 x 5
        (5, "1080p", None, 45.0),  # 7.2 x 1.25 = 9 per second
        (3, "720p", None, 21.6),
        (7, "720p", None, 50.4),  # not 50.400000000000006
        (15, "1080p", None, 135.0),
        (11, "1080p", "kling-v3-turbo-text-to-video", 99.0),
    ],
)
def test_per_second_billing(duration: int, quality: str, model: str | None, credits: float) -> None:
    request = validate_request(
        JobRequest(prompt="a lantern", duration=duration, quality=quality, model=model)
    )
    assert credits_for(request) == credits
    assert estimate_credits("evolink", request) == credits


def test_three_seconds_are_billed_at_least() -> None:
    # The provider refuses shorter videos, but its rule bills 3 s whatever is asked.
    short = JobRequest(prompt="x", duration=2, model="kling-v3-turbo-text-to-video")
    assert credits_for(short) == 21.6


def test_a_provider_without_a_published_price_is_unknown() -> None:
    request = validate_request(JobRequest(prompt="a lantern"))
    assert estimate_credits("kling", request) is None
