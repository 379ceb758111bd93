"""The settings object: every knob, read once from the environment at the entry point.

Variables are prefixed ``RECEIVER_`` (ours), ``EVOLINK_`` or ``KLING_`` (the providers) or
are the standard ``AWS_*`` ones boto3 users already know. Values are parsed and checked here,
so a bad value fails at start-up with a message naming the variable, never deep inside a
request. Secrets are wrapped in :class:`Secret` so they never show up in a repr or a log line.

Which variables exist, their defaults and meanings are declared once, in
:mod:`receiver.variables`: every read here goes through that table, and ``infra/env.example``
and ``docs/configuration.md`` are generated from it.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from receiver.errors import ConfigError
from receiver.variables import declared

__all__ = ["Secret", "Settings", "parse_byte_size", "parse_duration"]

#: S3's limit on the parts of one multipart upload.
_MAX_PARTS = 10_000
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
#: The longest duration anything takes: a century. Longer ones overflow dates and timers
#: (``now - 1000000d`` is before year 1), so they are refused as bad input.
_MAX_DURATION_DAYS = 36500
_SIZE = re.compile(r"^\s*(\d+)\s*(b|kib|mib|gib|kb|mb|gb|k|m|g)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    None: 1, "b": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
}  # fmt: skip


class Secret:
    """A string that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def parse_duration(text: str) -> float:
    """Seconds from ``"90"``, ``"90s"``, ``"15m"``, ``"72h"`` or ``"2d"``."""
    match = _DURATION.match(text.lower())
    if not match:
        raise ValueError(f"{text!r} is not a duration (examples: 30s, 15m, 72h, 2d)")
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    # Not finite when the digits overflow a float (float("9" * 400) is inf).
    if not seconds <= _MAX_DURATION_DAYS * 86400.0:
        raise ValueError(f"{text.strip()!r} is too long: at most {_MAX_DURATION_DAYS}d")
    return seconds


def parse_byte_size(text: str) -> int:
    """Bytes from ``"1048576"``, ``"8MiB"``, ``"2GiB"`` (k/m/g are binary units)."""
    match = _SIZE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size (examples: 1MiB, 8MiB, 2GiB)")
    return int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower() or None]


class _Env:
    """Reads and converts variables, turning every bad value into a ConfigError.

    Every variable must be declared in :mod:`receiver.variables`, which also holds its
    default: the default is parsed by the same code as a value that was set.
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ

    def given(self, name: str) -> str | None:
        """The value set for ``name`` (stripped), or None when it is unset or blank."""
        declared(name)
        return self._environ.get(name, "").strip() or None

    def text(self, name: str) -> str | None:
        """The value set for ``name``, else its declared default."""
        return self.given(name) or declared(name).default

    def _text_or_default(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise AssertionError(f"{name} is read with a default but declares none")
        return value

    def secret(self, name: str) -> Secret | None:
        value = self.text(name)
        return Secret(value) if value else None

    def flag(self, name: str) -> bool:
        value = self._text_or_default(name)
        if value.lower() in {"1", "true", "yes", "on"}:
            return True
        if value.lower() in {"0", "false", "no", "off"}:
            return False
        raise ConfigError(name, f"expected 1/0, true/false, yes/no or on/off, got {value!r}")

    def integer(self, name: str, *, minimum: int = 1) -> int:
        value = self._text_or_default(name)
        try:
            number = int(value)
        except ValueError:
            raise ConfigError(name, f"expected a whole number, got {value!r}") from None
        if number < minimum:
            raise ConfigError(name, f"must be at least {minimum}, got {number}")
        return number

    def duration(self, name: str) -> float:
        try:
            seconds = parse_duration(self._text_or_default(name))
        except ValueError as exc:
            raise ConfigError(name, str(exc)) from None
        if seconds <= 0:
            raise ConfigError(name, "must be longer than zero")
        return seconds

    def size(self, name: str) -> int:
        try:
            return parse_byte_size(self._text_or_default(name))
        except ValueError as exc:
            raise ConfigError(name, str(exc)) from None

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        value = self._text_or_default(name).lower()
        if value not in choices:
            raise ConfigError(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def items(self, name: str) -> list[str]:
        """A comma-separated list; an empty item (``a,,b``, a lone ``,``) is refused."""
        value = self.text(name)
        if value is None:
            return []
        items = [item.strip() for item in value.split(",")]
        if not all(items):
            # Positions, not the value: it may be a list of keys.
            empty = ", ".join(str(number) for number, item in enumerate(items, 1) if not item)
            raise ConfigError(
                name,
                f"holds an empty item (number {empty} of {len(items)}): separate the values "
                "with single commas, with no comma at either end",
            )
        return items


#: Why a variable's URL must be https, for the message that refuses an http one.
_WHY_HTTPS = {
    "RECEIVER_PUBLIC_URL": "the provider only calls https callbacks",
    "EVOLINK_BASE_URL": "the API key would cross the network in clear text",
    "KLING_BASE_URL": "the signed API tokens would cross the network in clear text",
    "RECEIVER_NOTIFY_URLS": "notifications go over https",
}


def _check_url(name: str, url: str, *, https_only: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        # Scheme only: the rest of a URL may hold credentials.
        raise ConfigError(
            name, f"expected an http(s) URL, got a {parts.scheme or 'schemeless'} one"
        )
    if https_only and parts.scheme != "https":
        raise ConfigError(
            name,
            f"must be an https URL ({_WHY_HTTPS.get(name, 'it carries secrets')} unless "
            "RECEIVER_INSECURE=1, which is for local development only)",
        )
    return url.rstrip("/")


def _notify_secret(text: str | None) -> Secret | None:
    if text is None:
        return None
    body = text.removeprefix("whsec_")
    try:
        if len(base64.b64decode(body, validate=True)) < 24:
            raise ValueError
    except ValueError:
        raise ConfigError(
            "RECEIVER_NOTIFY_SECRET",
            "expected a Standard Webhooks secret: whsec_ + base64 of at least 24 random bytes "
            '(make one with: python -c "import base64, secrets; '
            "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\")",
        ) from None
    return Secret(text)


def _admin_token(token: Secret | None) -> Secret | None:
    # It opens the API and the gallery to whoever holds it, from wherever /v1 is reachable.
    if token is not None and len(token.reveal()) < 24:
        raise ConfigError(
            "RECEIVER_ADMIN_TOKEN",
            "must be at least 24 characters long "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")',
        )
    return token


def _kling_settings(env: _Env, *, insecure: bool) -> tuple[str | None, Secret | None, str]:
    """Access key, secret key and base URL of Kling's API."""
    access_key, secret_key = env.text("KLING_ACCESS_KEY"), env.secret("KLING_SECRET_KEY")
    # Half a key pair is a mistake worth stopping for: no request could be signed.
    if access_key is not None and secret_key is None:
        raise ConfigError("KLING_SECRET_KEY", "is not set, but KLING_ACCESS_KEY is")
    if secret_key is not None and access_key is None:
        raise ConfigError("KLING_ACCESS_KEY", "is not set, but KLING_SECRET_KEY is")
    base_url = _check_url(
        "KLING_BASE_URL",
        env.text("KLING_BASE_URL") or "",
        https_only=not insecure,
    )
    return access_key, secret_key, base_url


def _proxies(items: list[str]) -> tuple[str, ...]:
    networks = []
    for item in items:
        try:
            networks.append(str(ipaddress.ip_network(item, strict=False)))
        except ValueError:
            raise ConfigError(
                "RECEIVER_TRUSTED_PROXIES",
                f"{item!r} is not an IP address or network (examples: 127.0.0.1, 10.0.0.0/8)",
            ) from None
    return tuple(networks)


def _secret_keys(env: _Env) -> tuple[Secret, ...]:
    # An empty item is refused rather than skipped: `RECEIVER_SECRET_KEYS=$NEW,$OLD` with
    # $OLD unset would otherwise drop the old key, and the callbacks in flight with it.
    keys = tuple(Secret(key) for key in env.items("RECEIVER_SECRET_KEYS"))
    for key in keys:
        if len(key.reveal()) < 16:
            raise ConfigError(
                "RECEIVER_SECRET_KEYS",
                "every key must be at least 16 characters long "
                '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")',
            )
    return keys


def _notifications(env: _Env, *, insecure: bool) -> tuple[tuple[str, ...], Secret | None]:
    """The endpoints and the signing secret: both or neither."""
    urls = tuple(
        _check_url("RECEIVER_NOTIFY_URLS", url, https_only=not insecure)
        for url in env.items("RECEIVER_NOTIFY_URLS")
    )
    secret = _notify_secret(env.text("RECEIVER_NOTIFY_SECRET"))
    if urls and secret is None:
        # Unsigned notifications are never sent; saying nothing would look like an outage.
        raise ConfigError(
            "RECEIVER_NOTIFY_SECRET",
            "is not set, but RECEIVER_NOTIFY_URLS is: notifications are signed, so set both "
            "(or neither)",
        )
    return urls, secret


def _presign_expiry(env: _Env, name: str) -> float:
    """How long a presigned S3 URL stays valid: Signature Version 4 allows seven days at most,
    so a longer setting is refused at start-up rather than by S3 at the first link."""
    seconds = env.duration(name)
    if seconds > 7 * 86400:
        raise ConfigError(name, "S3 presigns URLs for at most 7d")
    return seconds


def _submission_settings(env: _Env) -> dict[str, Any]:
    """Local first-frame images and the daily credit budget."""
    budget_text = env.text("RECEIVER_MAX_CREDITS_PER_DAY")
    budget: float | None = None
    if budget_text is not None:
        try:
            budget = float(budget_text)
        except ValueError:
            raise ConfigError(
                "RECEIVER_MAX_CREDITS_PER_DAY", f"expected a number of credits, got {budget_text!r}"
            ) from None
        if not 0 <= budget < 1e12:
            raise ConfigError("RECEIVER_MAX_CREDITS_PER_DAY", "must be zero or more credits")
    input_prefix = env.text("RECEIVER_S3_INPUT_PREFIX") or ""
    if input_prefix.startswith("/"):
        raise ConfigError("RECEIVER_S3_INPUT_PREFIX", "must not start with '/'")
    if input_prefix and not input_prefix.endswith("/"):
        input_prefix += "/"
    image_expiry = _presign_expiry(env, "RECEIVER_IMAGE_URL_EXPIRY")
    return {
        "max_credits_per_day": budget,
        "s3_input_prefix": input_prefix,
        "image_url_expiry": image_expiry,
    }


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything receiver can be told, already parsed and checked."""

    # repr=False: a PostgreSQL URL may carry a password.
    database_url: str = field(default="sqlite:///var/receiver.db", repr=False)

    s3_endpoint_url: str | None = None
    s3_bucket: str = "receiver-videos"
    s3_prefix: str = "videos/"
    s3_addressing_style: Literal["path", "virtual", "auto"] = "path"
    aws_access_key_id: str | None = None
    aws_secret_access_key: Secret | None = field(default=None, repr=False)
    aws_region: str = "us-east-1"

    public_url: str | None = None
    secret_keys: tuple[Secret, ...] = field(default=(), repr=False)
    token_max_age: float = 72 * 3600.0
    admin_token: Secret | None = field(default=None, repr=False)
    insecure: bool = False

    evolink_api_key: Secret | None = field(default=None, repr=False)
    evolink_base_url: str = "https://api.evolink.ai"
    # The access key names the key pair (it travels readable in every token); the secret
    # key signs the tokens and never leaves this process.
    kling_access_key: str | None = None
    kling_secret_key: Secret | None = field(default=None, repr=False)
    kling_base_url: str = "https://api-singapore.klingai.com"

    max_body_bytes: int = 1024 * 1024
    rejected_retention: float = 7 * 86400.0
    rejected_max_rows: int = 200_000
    rejected_log_rate: int = 20
    trusted_proxies: tuple[str, ...] = ()
    confirm_with_provider: bool = False
    adopt_unconfirmed: bool = False
    adopt_limit: int = 1000
    request_timeout: float = 10.0
    max_headers: int = 100
    max_header_bytes: int = 32 * 1024
    watchdog_grace: float = 600.0
    presign_expiry: float = 3600.0
    max_credits_per_day: float | None = None
    s3_input_prefix: str = "inputs/"
    image_url_expiry: float = 24 * 3600.0
    input_retention: float = 7 * 86400.0
    video_retention: float | None = None
    notify_urls: tuple[str, ...] = ()
    notify_secret: Secret | None = field(default=None, repr=False)
    api_url: str = "http://127.0.0.1:8000"
    lease_seconds: float = 120.0
    shutdown_timeout: float = 30.0
    watchdog_interval: float = 30.0
    purge_interval: float = 600.0
    deadline_check_interval: float = 60.0
    notify_interval: float = 1.0
    part_size: int = 6 * 1024 * 1024
    parts_in_flight: int = 1
    store_patience: float = 300.0
    archive_concurrency: int = 2
    deadline_warning: float = 2 * 3600.0
    max_video_bytes: int = 2 * 1024**3
    archive_max_attempts: int = 200
    fetch_timeout: float = 30.0
    fetch_min_rate: int = 16 * 1024
    fetch_rate_window: float = 60.0
    fetch_allowed_hosts: frozenset[str] = frozenset()

    log_level: str = "info"
    log_format: str = "auto"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = _Env(os.environ if environ is None else environ)
        insecure = env.flag("RECEIVER_INSECURE")

        public_url = env.text("RECEIVER_PUBLIC_URL")
        if public_url is not None:
            public_url = _check_url("RECEIVER_PUBLIC_URL", public_url, https_only=not insecure)
        s3_endpoint = env.text("RECEIVER_S3_ENDPOINT_URL")
        if s3_endpoint is not None:
            s3_endpoint = _check_url("RECEIVER_S3_ENDPOINT_URL", s3_endpoint, https_only=False)
        evolink_base = _check_url(
            "EVOLINK_BASE_URL",
            env.text("EVOLINK_BASE_URL") or "",
            https_only=not insecure,
        )

        kling_access_key, kling_secret_key, kling_base_url = _kling_settings(env, insecure=insecure)

        keys = _secret_keys(env)
        notify_urls, notify_secret = _notifications(env, insecure=insecure)

        prefix = env.text("RECEIVER_S3_PREFIX") or ""
        if prefix.startswith("/"):
            raise ConfigError("RECEIVER_S3_PREFIX", "must not start with '/'")
        if prefix and not prefix.endswith("/"):
            prefix += "/"

        bucket = env.text("RECEIVER_S3_BUCKET") or ""
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket):
            raise ConfigError(
                "RECEIVER_S3_BUCKET",
                f"{bucket!r} is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')",
            )

        database_url = env.text("RECEIVER_DATABASE_URL") or ""
        if not database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ConfigError(
                "RECEIVER_DATABASE_URL",
                "expected sqlite:///PATH or postgresql://USER@HOST/DB, "
                f"got {database_url.split('://')[0]!r}",
            )

        part_size = env.size("RECEIVER_PART_SIZE")
        if part_size < 5 * 1024 * 1024:
            raise ConfigError("RECEIVER_PART_SIZE", "S3 needs parts of at least 5MiB")
        max_video_bytes = env.size("RECEIVER_MAX_VIDEO_BYTES")
        if part_size * _MAX_PARTS < max_video_bytes:
            # S3 allows 10,000 parts per upload: the largest video must fit in them.
            raise ConfigError(
                "RECEIVER_PART_SIZE",
                f"{part_size} bytes x {_MAX_PARTS:,} parts cannot hold a video of "
                f"RECEIVER_MAX_VIDEO_BYTES ({max_video_bytes} bytes): raise the part size",
            )

        return cls(
            database_url=database_url,
            s3_endpoint_url=s3_endpoint,
            s3_bucket=bucket,
            s3_prefix=prefix,
            s3_addressing_style=cast(
                Literal["path", "virtual", "auto"],
                env.choice("RECEIVER_S3_ADDRESSING_STYLE", ("path", "virtual", "auto")),
            ),
            aws_access_key_id=env.text("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=env.secret("AWS_SECRET_ACCESS_KEY"),
            aws_region=(
                env.given("AWS_REGION")
                or env.given("AWS_DEFAULT_REGION")
                or env.text("AWS_REGION")
                or ""
            ),
            public_url=public_url,
            secret_keys=keys,
            token_max_age=env.duration("RECEIVER_TOKEN_MAX_AGE"),
            admin_token=_admin_token(env.secret("RECEIVER_ADMIN_TOKEN")),
            insecure=insecure,
            evolink_api_key=env.secret("EVOLINK_API_KEY"),
            evolink_base_url=evolink_base,
            kling_access_key=kling_access_key,
            kling_secret_key=kling_secret_key,
            kling_base_url=kling_base_url,
            max_body_bytes=env.size("RECEIVER_MAX_BODY_BYTES"),
            rejected_retention=env.duration("RECEIVER_REJECTED_RETENTION"),
            input_retention=env.duration("RECEIVER_INPUT_RETENTION"),
            video_retention=env.duration("RECEIVER_VIDEO_RETENTION")
            if env.given("RECEIVER_VIDEO_RETENTION")
            else None,
            rejected_max_rows=env.integer("RECEIVER_REJECTED_MAX_ROWS"),
            rejected_log_rate=env.integer("RECEIVER_REJECTED_LOG_RATE", minimum=0),
            trusted_proxies=_proxies(env.items("RECEIVER_TRUSTED_PROXIES")),
            confirm_with_provider=env.flag("RECEIVER_CONFIRM_WITH_PROVIDER"),
            adopt_unconfirmed=env.flag("RECEIVER_ADOPT_UNCONFIRMED"),
            adopt_limit=env.integer("RECEIVER_ADOPT_LIMIT"),
            request_timeout=env.duration("RECEIVER_REQUEST_TIMEOUT"),
            max_headers=env.integer("RECEIVER_MAX_HEADERS"),
            max_header_bytes=env.size("RECEIVER_MAX_HEADER_BYTES"),
            watchdog_grace=env.duration("RECEIVER_WATCHDOG_GRACE"),
            presign_expiry=_presign_expiry(env, "RECEIVER_PRESIGN_EXPIRY"),
            **_submission_settings(env),
            notify_urls=notify_urls,
            notify_secret=notify_secret,
            api_url=_check_url(
                "RECEIVER_API_URL",
                env.text("RECEIVER_API_URL") or "",
                https_only=False,
            ),
            lease_seconds=env.duration("RECEIVER_LEASE_SECONDS"),
            shutdown_timeout=env.duration("RECEIVER_SHUTDOWN_TIMEOUT"),
            watchdog_interval=env.duration("RECEIVER_WATCHDOG_INTERVAL"),
            purge_interval=env.duration("RECEIVER_PURGE_INTERVAL"),
            deadline_check_interval=env.duration("RECEIVER_DEADLINE_CHECK_INTERVAL"),
            notify_interval=env.duration("RECEIVER_NOTIFY_INTERVAL"),
            part_size=part_size,
            parts_in_flight=env.integer("RECEIVER_PARTS_IN_FLIGHT"),
            store_patience=env.duration("RECEIVER_STORE_PATIENCE"),
            archive_concurrency=env.integer("RECEIVER_ARCHIVE_CONCURRENCY"),
            deadline_warning=env.duration("RECEIVER_DEADLINE_WARNING"),
            max_video_bytes=max_video_bytes,
            archive_max_attempts=env.integer("RECEIVER_ARCHIVE_MAX_ATTEMPTS"),
            fetch_timeout=env.duration("RECEIVER_FETCH_TIMEOUT"),
            fetch_min_rate=env.size("RECEIVER_FETCH_MIN_RATE"),
            fetch_rate_window=env.duration("RECEIVER_FETCH_RATE_WINDOW"),
            fetch_allowed_hosts=frozenset(
                host.lower() for host in env.items("RECEIVER_FETCH_ALLOWED_HOSTS")
            ),
            log_level=env.choice("RECEIVER_LOG_LEVEL", ("debug", "info", "warning", "error")),
            log_format=env.choice("RECEIVER_LOG_FORMAT", ("auto", "json", "console")),
        )

    # Settings only some commands need are checked where they are needed, so that
    # `receiver jobs` works without a provider key, yet the message still names the variable.

    def require_public_url(self) -> str:
        if self.public_url is None:
            raise ConfigError(
                "RECEIVER_PUBLIC_URL",
                "is not set: the https base URL the provider can reach us at "
                "(e.g. https://receiver.example.com)",
            )
        return self.public_url

    def require_secret_keys(self) -> tuple[Secret, ...]:
        if not self.secret_keys:
            raise ConfigError(
                "RECEIVER_SECRET_KEYS",
                "is not set: comma-separated keys that sign callback URLs "
                '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")',
            )
        return self.secret_keys
