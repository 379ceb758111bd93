from __future__ import annotations

import pytest

from receiver.config import Secret, Settings, parse_byte_size, parse_duration
from receiver.errors import ConfigError


def test_defaults_need_nothing() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == "sqlite:///var/receiver.db"
    assert settings.s3_prefix == "videos/"
    assert settings.evolink_base_url == "https://api.evolink.ai"
    assert settings.token_max_age == 72 * 3600


def test_public_url_must_be_https_outside_insecure_mode() -> None:
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env({"RECEIVER_PUBLIC_URL": "http://example.com"})
    assert excinfo.value.variable == "RECEIVER_PUBLIC_URL"
    assert "https" in excinfo.value.message

    insecure = Settings.from_env(
        {"RECEIVER_PUBLIC_URL": "http://127.0.0.1:8000/", "RECEIVER_INSECURE": "1"}
    )
    assert insecure.public_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RECEIVER_INSECURE", "maybe"),
        ("RECEIVER_ARCHIVE_CONCURRENCY", "zero"),
        ("RECEIVER_ARCHIVE_CONCURRENCY", "0"),
        ("RECEIVER_TOKEN_MAX_AGE", "forever"),
        ("RECEIVER_S3_BUCKET", "Not_A_Bucket"),
        ("RECEIVER_DATABASE_URL", "mysql://db"),
        ("RECEIVER_PART_SIZE", "1MiB"),
        ("RECEIVER_SECRET_KEYS", "short"),
        ("RECEIVER_S3_ENDPOINT_URL", "ftp://store"),
        ("RECEIVER_LOG_LEVEL", "loud"),
    ],
)
def test_bad_values_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        Settings.from_env({variable: value})
    assert excinfo.value.variable == variable
    assert str(excinfo.value).startswith(variable)


def test_secret_keys_rotate_newest_first_and_never_print() -> None:
    settings = Settings.from_env(
        {"RECEIVER_SECRET_KEYS": "new-key-0123456789abcdef, old-key-0123456789abcdef"}
    )
    assert [key.reveal() for key in settings.secret_keys] == [
        "new-key-0123456789abcdef",
        "old-key-0123456789abcdef",
    ]
    assert "new-key" not in repr(settings)
    assert "0123456789" not in repr(Secret("0123456789"))


def test_missing_required_settings_say_which() -> None:
    settings = Settings.from_env({})
    with pytest.raises(ConfigError, match="RECEIVER_SECRET_KEYS"):
        settings.require_secret_keys()
    with pytest.raises(ConfigError, match="RECEIVER_PUBLIC_URL"):
        settings.require_public_url()


def test_prefix_gets_a_trailing_slash() -> None:
    assert (
        Settings.from_env({"RECEIVER_S3_PREFIX": "archive/videos"}).s3_prefix == "archive/videos/"
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("15m", 900), ("72h", 259200), ("2d", 172800), ("250ms", 0.25)],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "size"), [("1024", 1024), ("8MiB", 8 * 1024**2), ("2GiB", 2 * 1024**3), ("5mb", 5e6)]
)
def test_parse_byte_size(text: str, size: int) -> None:
    assert parse_byte_size(text) == size


def test_parse_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration("soon")
    with pytest.raises(ValueError, match="size"):
        parse_byte_size("big")


@pytest.mark.parametrize("text", ["36501d", "1000000d", "99999999999d", "9" * 400])
def test_a_duration_longer_than_a_century_is_refused(text: str) -> None:
    # Longer ones overflow dates and timers far from here: now - 1000000d is before year 1.
    with pytest.raises(ValueError, match="too long: at most 36500d"):
        parse_duration(text)
    assert parse_duration("36500d") == 36500 * 86400


def test_a_huge_duration_setting_names_its_variable() -> None:
    with pytest.raises(ConfigError, match="too long") as caught:
        Settings.from_env({"RECEIVER_WATCHDOG_GRACE": "99999999999d"})
    assert caught.value.variable == "RECEIVER_WATCHDOG_GRACE"


@pytest.mark.parametrize("variable", ["RECEIVER_PRESIGN_EXPIRY", "RECEIVER_IMAGE_URL_EXPIRY"])
def test_presigned_urls_live_seven_days_at_most(variable: str) -> None:
    # S3's presigned URLs (Signature Version 4) expire within 604800 s: refused at start-up.
    for value in ("8d", "168.5h", "604801s", "36500d"):
        with pytest.raises(ConfigError, match="at most 7d") as caught:
            Settings.from_env({variable: value})
        assert caught.value.variable == variable
    assert Settings.from_env({"RECEIVER_PRESIGN_EXPIRY": "7d"}).presign_expiry == 604800
    assert Settings.from_env({"RECEIVER_PRESIGN_EXPIRY": "15m"}).presign_expiry == 900
