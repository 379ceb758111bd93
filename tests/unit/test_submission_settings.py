"""The settings of submitting: the daily budget, where first frames go, how long they live."""

from __future__ import annotations

import pytest

from receiver.config import Settings
from receiver.errors import ConfigError


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.max_credits_per_day is None
    assert settings.s3_input_prefix == "inputs/"
    assert settings.image_url_expiry == 24 * 3600


def test_values_are_read() -> None:
    settings = Settings.from_env(
        {
            "RECEIVER_MAX_CREDITS_PER_DAY": "500.5",
            "RECEIVER_S3_INPUT_PREFIX": "frames",
            "RECEIVER_IMAGE_URL_EXPIRY": "6h",
        }
    )
    assert settings.max_credits_per_day == 500.5
    assert settings.s3_input_prefix == "frames/"
    assert settings.image_url_expiry == 6 * 3600


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("RECEIVER_MAX_CREDITS_PER_DAY", "lots", "expected a number of credits"),
        ("RECEIVER_MAX_CREDITS_PER_DAY", "-5", "zero or more"),
        ("RECEIVER_MAX_CREDITS_PER_DAY", "nan", "zero or more"),
        ("RECEIVER_IMAGE_URL_EXPIRY", "8d", "at most 7d"),
        ("RECEIVER_S3_INPUT_PREFIX", "/inputs", "must not start with '/'"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str, problem: str) -> None:
    with pytest.raises(ConfigError, match=problem) as caught:
        Settings.from_env({variable: value})
    assert caught.value.variable == variable
