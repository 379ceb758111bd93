"""Kling's settings: a key pair or nothing, an https base URL, the secret never printed."""

from __future__ import annotations

import pytest

from receiver.config import Secret, Settings
from receiver.errors import ConfigError


def test_no_kling_keys_is_fine_and_the_base_url_has_a_default() -> None:
    settings = Settings.from_env({})
    assert settings.kling_access_key is None
    assert settings.kling_secret_key is None
    assert settings.kling_base_url == "https://api-singapore.klingai.com"


def test_a_key_pair_is_read_and_the_secret_masked() -> None:
    settings = Settings.from_env(
        {
            "KLING_ACCESS_KEY": "ak-1",
            "KLING_SECRET_KEY": "sk-very-secret",
            "KLING_BASE_URL": "https://api.klingai.com/",
        }
    )
    assert settings.kling_access_key == "ak-1"
    assert settings.kling_secret_key == Secret("sk-very-secret")
    assert settings.kling_base_url == "https://api.klingai.com"
    assert "sk-very-secret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"KLING_ACCESS_KEY": "ak-1"}, "KLING_SECRET_KEY"),
        ({"KLING_SECRET_KEY": "sk-1"}, "KLING_ACCESS_KEY"),
        ({"KLING_BASE_URL": "http://api.klingai.com"}, "KLING_BASE_URL"),
        ({"KLING_BASE_URL": "api.klingai.com"}, "KLING_BASE_URL"),
    ],
)
def test_half_a_key_pair_or_a_bad_url_names_the_variable(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    assert caught.value.variable == variable


def test_http_base_url_only_when_insecure() -> None:
    settings = Settings.from_env(
        {"KLING_BASE_URL": "http://127.0.0.1:8010", "RECEIVER_INSECURE": "1"}
    )
    assert settings.kling_base_url == "http://127.0.0.1:8010"
