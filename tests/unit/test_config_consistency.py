"""Settings that are each valid but wrong together, or wrong in a way no parser saw."""

from __future__ import annotations

import base64

import pytest

from receiver.config import Settings
from receiver.errors import ConfigError

NOTIFY_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
KEY = "a-signing-key-0123456789"


def test_notify_urls_without_a_secret_are_refused_naming_both() -> None:
    # Before: accepted, and notifications silently never sent.
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"RECEIVER_NOTIFY_URLS": "https://hooks.example.com/receiver"})
    assert caught.value.variable == "RECEIVER_NOTIFY_SECRET"
    assert "RECEIVER_NOTIFY_URLS" in caught.value.message
    both = Settings.from_env(
        {
            "RECEIVER_NOTIFY_URLS": "https://hooks.example.com/receiver",
            "RECEIVER_NOTIFY_SECRET": NOTIFY_SECRET,
        }
    )
    assert both.notify_urls == ("https://hooks.example.com/receiver",)


@pytest.mark.parametrize("value", [",", " , ", f"{KEY},", f",{KEY}", f"{KEY},,{KEY}x"])
def test_an_empty_signing_key_is_refused(value: str) -> None:
    # `RECEIVER_SECRET_KEYS=$NEW,$OLD` with $OLD unset would silently drop the old key.
    with pytest.raises(ConfigError, match="empty item") as caught:
        Settings.from_env({"RECEIVER_SECRET_KEYS": value})
    assert caught.value.variable == "RECEIVER_SECRET_KEYS"
    assert KEY not in caught.value.message


@pytest.mark.parametrize(
    "variable",
    ["RECEIVER_TRUSTED_PROXIES", "RECEIVER_FETCH_ALLOWED_HOSTS", "RECEIVER_NOTIFY_URLS"],
)
def test_every_list_refuses_an_empty_item(variable: str) -> None:
    with pytest.raises(ConfigError, match="empty item") as caught:
        Settings.from_env({variable: ",", "RECEIVER_NOTIFY_SECRET": NOTIFY_SECRET})
    assert caught.value.variable == variable


def test_an_http_notify_url_is_refused_for_the_right_reason() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {
                "RECEIVER_NOTIFY_URLS": "http://hooks.example.com/receiver",
                "RECEIVER_NOTIFY_SECRET": NOTIFY_SECRET,
            }
        )
    assert caught.value.variable == "RECEIVER_NOTIFY_URLS"
    assert "notifications go over https unless RECEIVER_INSECURE=1" in caught.value.message
    # Not the public URL's reason.
    assert "callbacks" not in caught.value.message


@pytest.mark.parametrize(
    ("variable", "reason"),
    [
        ("RECEIVER_PUBLIC_URL", "the provider only calls https callbacks"),
        ("EVOLINK_BASE_URL", "the API key would cross the network in clear text"),
        ("KLING_BASE_URL", "tokens would cross the network in clear text"),
    ],
)
def test_each_https_url_says_why(variable: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason) as caught:
        Settings.from_env({variable: "http://example.com"})
    assert caught.value.variable == variable
    assert "RECEIVER_INSECURE=1" in caught.value.message


def test_an_insecure_setup_may_notify_over_http() -> None:
    settings = Settings.from_env(
        {
            "RECEIVER_INSECURE": "1",
            "RECEIVER_NOTIFY_URLS": "http://127.0.0.1:9/hook",
            "RECEIVER_NOTIFY_SECRET": NOTIFY_SECRET,
        }
    )
    assert settings.notify_urls == ("http://127.0.0.1:9/hook",)
