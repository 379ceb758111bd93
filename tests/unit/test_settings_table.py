"""The settings table itself: every field declared once, every variable reaching its own
field with the field's type, and the CLI's help made from it."""

from __future__ import annotations

import base64
import dataclasses
import types
import typing
from typing import Literal, Union

import pytest

from receiver import config_docs
from receiver.cli import main
from receiver.config import VARIABLES, Secret, Settings, check_together, declarations
from receiver.errors import ConfigError
from receiver.variables import SIMULATOR

NOTIFY_SECRET = "whsec_" + base64.b64encode(b"n" * 32).decode()
#: A valid value, other than the default, for every variable the settings read.
EVERY_VARIABLE = {
    "RECEIVER_DATABASE_URL": "postgresql://receiver@db.example.com/receiver",
    "RECEIVER_S3_ENDPOINT_URL": "http://127.0.0.1:8333/",
    "RECEIVER_S3_BUCKET": "other-videos",
    "RECEIVER_S3_PREFIX": "archive",
    "RECEIVER_S3_ADDRESSING_STYLE": "Virtual",
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "s3-secret",
    "AWS_REGION": "eu-west-1",
    "AWS_DEFAULT_REGION": "ap-south-1",
    "RECEIVER_PUBLIC_URL": "https://receiver.example.com/",
    "RECEIVER_SECRET_KEYS": "new-key-0123456789, old-key-0123456789",
    "RECEIVER_TOKEN_MAX_AGE": "48h",
    "RECEIVER_MAX_BODY_BYTES": "2MiB",
    "RECEIVER_REQUEST_TIMEOUT": "5s",
    "RECEIVER_MAX_HEADERS": "50",
    "RECEIVER_MAX_HEADER_BYTES": "16KiB",
    "RECEIVER_CONFIRM_WITH_PROVIDER": "1",
    "RECEIVER_ADOPT_UNCONFIRMED": "yes",
    "RECEIVER_ADOPT_LIMIT": "10",
    "RECEIVER_TRUSTED_PROXIES": "127.0.0.1, 10.1.2.3/8",
    "RECEIVER_REJECTED_RETENTION": "1d",
    "RECEIVER_REJECTED_MAX_ROWS": "1000",
    "RECEIVER_REJECTED_LOG_RATE": "0",
    "RECEIVER_PURGE_INTERVAL": "5m",
    "EVOLINK_API_KEY": "sk-evo-example",
    "EVOLINK_BASE_URL": "https://evolink.example.com/",
    "KLING_ACCESS_KEY": "ak-example",
    "KLING_SECRET_KEY": "sk-example",
    "KLING_BASE_URL": "https://kling.example.com",
    "RECEIVER_MAX_CREDITS_PER_DAY": "100",
    "RECEIVER_S3_INPUT_PREFIX": "frames",
    "RECEIVER_IMAGE_URL_EXPIRY": "1h",
    "RECEIVER_PART_SIZE": "8MiB",
    "RECEIVER_PARTS_IN_FLIGHT": "2",
    "RECEIVER_STORE_PATIENCE": "1m",
    "RECEIVER_ARCHIVE_CONCURRENCY": "4",
    "RECEIVER_MAX_VIDEO_BYTES": "1GiB",
    "RECEIVER_ARCHIVE_MAX_ATTEMPTS": "5",
    "RECEIVER_DEADLINE_WARNING": "1h",
    "RECEIVER_DEADLINE_CHECK_INTERVAL": "2m",
    "RECEIVER_FETCH_ALLOWED_HOSTS": "Files.Example.com",
    "RECEIVER_FETCH_TIMEOUT": "10s",
    "RECEIVER_FETCH_MIN_RATE": "0",
    "RECEIVER_FETCH_RATE_WINDOW": "30s",
    "RECEIVER_LEASE_SECONDS": "60",
    "RECEIVER_VIDEO_RETENTION": "30d",
    "RECEIVER_INPUT_RETENTION": "2d",
    "RECEIVER_WATCHDOG_GRACE": "5m",
    "RECEIVER_WATCHDOG_INTERVAL": "10s",
    "RECEIVER_NOTIFY_URLS": "https://hooks.example.com/a,https://hooks.example.com/b",
    "RECEIVER_NOTIFY_SECRET": NOTIFY_SECRET,
    "RECEIVER_NOTIFY_INTERVAL": "2s",
    "RECEIVER_ADMIN_TOKEN": "an-admin-token-0123456789",
    "RECEIVER_API_URL": "http://127.0.0.1:9000",
    "RECEIVER_PRESIGN_EXPIRY": "2h",
    "RECEIVER_INSECURE": "on",
    "RECEIVER_SHUTDOWN_TIMEOUT": "10s",
    "RECEIVER_LOG_LEVEL": "DEBUG",
    "RECEIVER_LOG_FORMAT": "json",
}
#: Variables valid only with another one set (which then changes its own field too).
NEEDS = {
    "KLING_ACCESS_KEY": "KLING_SECRET_KEY",
    "KLING_SECRET_KEY": "KLING_ACCESS_KEY",
    "RECEIVER_NOTIFY_URLS": "RECEIVER_NOTIFY_SECRET",
}
FIELDS = {field.name: field for field in dataclasses.fields(Settings)}
HINTS = typing.get_type_hints(Settings)


def _conforms(value: object, hint: object) -> bool:
    """Whether ``value`` has the type ``hint`` (the forms the settings' annotations use)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (Union, types.UnionType):
        return any(_conforms(value, arg) for arg in args)
    if origin is Literal:
        return value in args
    if origin in (tuple, frozenset):
        assert origin is tuple or len(args) == 1
        return isinstance(value, origin) and all(_conforms(item, args[0]) for item in value)
    if hint is type(None):
        return value is None
    if hint in (int, float):
        return type(value) is hint
    assert isinstance(hint, type), hint
    return isinstance(value, hint)


def _changed(settings: Settings) -> set[str]:
    defaults = Settings()
    return {name for name in FIELDS if getattr(settings, name) != getattr(defaults, name)}


def test_every_field_is_declared_once_with_a_variable_of_its_own() -> None:
    assert [name for name, _ in declarations()] == list(FIELDS)
    names = [variable.name for variable in VARIABLES]
    assert len(names) == len(set(names))
    # Only the simulator's variables stand outside the table: it reads them itself.
    outside = set(names) - {v.name for _, d in declarations() for v in d.variables}
    assert {variable.section for variable in VARIABLES if variable.name in outside} == {SIMULATOR}


def test_the_test_sets_every_variable_the_settings_read() -> None:
    read = {variable.name for _, declared in declarations() for variable in declared.variables}
    assert set(EVERY_VARIABLE) == read


@pytest.mark.parametrize("environ", [{}, EVERY_VARIABLE], ids=["defaults", "every-variable"])
def test_every_field_holds_the_type_of_its_annotation(environ: dict[str, str]) -> None:
    # from_env builds the dataclass from the declarations in one generic step mypy cannot
    # follow: here is what holds it to the annotations.
    settings = Settings.from_env(environ)
    for name, hint in HINTS.items():
        assert _conforms(getattr(settings, name), hint), (name, getattr(settings, name), hint)


def test_every_variable_reaches_its_own_field_and_no_other() -> None:
    for name, declared in declarations():
        variable = declared.variable.name
        environ = {variable: EVERY_VARIABLE[variable]}
        expected = {name}
        if variable in NEEDS:
            environ[NEEDS[variable]] = EVERY_VARIABLE[NEEDS[variable]]
            expected |= {other for other, d in declarations() if d.variable.name in environ}
        assert _changed(Settings.from_env(environ)) == expected, variable


def test_every_variable_set_changes_every_field() -> None:
    settings = Settings.from_env(EVERY_VARIABLE)
    assert _changed(settings) == set(FIELDS)
    # A few spot checks of the parsing, the rest is in test_config*.py.
    assert settings.s3_prefix == "archive/"
    assert settings.s3_addressing_style == "virtual"
    assert settings.aws_region == "eu-west-1"
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8")
    assert settings.fetch_allowed_hosts == frozenset({"files.example.com"})
    assert settings.secret_keys == (Secret("new-key-0123456789"), Secret("old-key-0123456789"))
    assert settings.video_retention == 30 * 86400
    assert settings.log_level == "debug"


def test_the_default_region_is_read_only_when_the_region_is_unset() -> None:
    assert Settings.from_env({"AWS_DEFAULT_REGION": "ap-south-1"}).aws_region == "ap-south-1"
    both = {"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "ap-south-1"}
    assert Settings.from_env(both).aws_region == "eu-west-1"
    assert Settings.from_env(
        {"AWS_REGION": " ", "AWS_DEFAULT_REGION": "ap-south-1"}
    ).aws_region == ("ap-south-1")


def test_a_field_default_is_its_declared_default_parsed() -> None:
    for name, declared in declarations():
        default = declared.variable.default
        expected = None if default is None else declared.parser(default)
        assert FIELDS[name].default == expected, name


def test_secrets_are_left_out_of_the_repr() -> None:
    shown = repr(Settings.from_env(EVERY_VARIABLE))
    for name, declared in declarations():
        assert (f"{name}=" in shown) is not (declared.variable.secret or name == "database_url")
    assert "s3-secret" not in shown
    assert "db.example.com" not in shown


def test_settings_built_directly_are_checked_together_only_on_demand() -> None:
    # The cross-field checks are a function of the parsed settings, as from_env applies them.
    lone = Settings(kling_access_key="ak-example")
    with pytest.raises(ConfigError, match="is not set, but KLING_ACCESS_KEY is") as caught:
        check_together(lone)
    assert caught.value.variable == "KLING_SECRET_KEY"
    check_together(Settings())


def test_the_cli_help_lists_the_variables_to_set_with_their_defaults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    assert config_docs.cli_environment_help() in shown
    listed = [variable for variable in VARIABLES if variable.brief]
    # Every variable env.example says to set first is in --help, and a few more.
    assert {v.name for v in VARIABLES if v.must_set} < {v.name for v in listed}
    for variable in listed:
        assert f"  {variable.name} " in shown
    assert "(default: sqlite:///var/receiver.db)" in " ".join(shown.split())
    assert all(len(line) <= 92 for line in config_docs.cli_environment_help().splitlines())
