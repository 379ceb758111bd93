"""Prices by the provider's documented rule, checked against sums done by hand."""

from __future__ import annotations

import pytest

from receiver.providers import kling_protocol
from receiver.providers.base import JobRequest
from receiver.providers.evolink_protocol import credits_for, validate_request
from receiver.submission.budget import BudgetState
from receiver.submission.cost import CostLine, estimate_credits


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


@pytest.mark.parametrize(
    ("model", "duration", "quality", "image", "credits"),
    [
        # Kling bills in resource units; kling-v3 counts EvoLink's price for the same model.
        (None, 5, "720p", None, 36.0),
        ("kling-v3", 10, "1080p", None, 90.0),
        ("kling-v3-image-to-video", 3, "720p", "https://example.com/f.png", 21.6),
    ],
)
def test_kling_v3_counts_evolinks_price_for_the_same_model(
    model: str | None, duration: int, quality: str, image: str | None, credits: float
) -> None:
    request = kling_protocol.validate_request(
        JobRequest(
            prompt="a lantern", model=model, duration=duration, quality=quality, image_url=image
        )
    )
    assert request.model == "kling-v3"
    assert estimate_credits("kling", request) == credits


def test_kling_models_without_a_stand_in_have_no_price() -> None:
    request = kling_protocol.validate_request(JobRequest(prompt="a lantern", model="kling-v2-6"))
    assert estimate_credits("kling", request) is None


def test_a_job_without_a_price_never_fits_a_budget() -> None:
    budget = BudgetState(limit=100, spent_today=10)
    assert budget.fits(90)
    assert not budget.fits(90.01)
    assert not budget.fits(None)


def test_a_cost_line_of_unpriced_jobs_has_unknown_credits_not_zero() -> None:
    unpriced = CostLine(key="kling-v2-6", jobs=2, credits=0.0, estimated_jobs=0, unpriced_jobs=2)
    assert not unpriced.priced
    assert unpriced.as_json("model") == {
        "model": "kling-v2-6",
        "jobs": 2,
        "credits": None,
        "estimated_jobs": 0,
        "unpriced_jobs": 2,
    }
    mixed = CostLine(key="2026-01-02", jobs=3, credits=36.0, estimated_jobs=1, unpriced_jobs=2)
    assert mixed.priced
    assert mixed.as_json("day")["credits"] == 36.0
