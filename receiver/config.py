"""The settings object: every knob, read once from the environment at the entry point.

Variables are prefixed ``RECEIVER_`` (ours), ``EVOLINK_`` or ``KLING_`` (the providers) or
are the standard ``AWS_*`` ones boto3 users already know. Values are parsed and checked here,
so a bad value fails at start-up with a message naming the variable, never deep inside a
request. Secrets are wrapped in :class:`Secret` so they never show up in a repr or a log line.

:class:`Settings` is the one table of the settings: each field names its variable, the
parser of its value, its default and its help (:func:`receiver.variables.setting`), and
nothing else states them: ``from_env`` reads the fields through their declarations,
``infra/env.example``, the tables of ``docs/configuration.md`` and the variables
``receiver --help`` lists are generated from them (:mod:`receiver.config_docs`). What one
value cannot tell alone (an http URL is fine under ``RECEIVER_INSECURE=1``, half a key pair
is not) is checked after parsing, by :func:`check_together`.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import os
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from receiver.errors import ConfigError
from receiver.variables import (
    SIMULATOR_VARIABLES,
    Secret,
    Setting,
    Variable,
    choice,
    declaration,
    duration,
    flag,
    integer,
    items,
    parse_byte_size,
    parse_duration,
    secret,
    setting,
    size,
    text,
    url,
)

__all__ = [
    "VARIABLES",
    "Secret",
    "Settings",
    "check_together",
    "declarations",
    "parse_byte_size",
    "parse_duration",
]

AddressingStyle = Literal["path", "virtual", "auto"]
ADDRESSING_STYLES: tuple[AddressingStyle, ...] = ("path", "virtual", "auto")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("auto", "json", "console")
#: S3's limit on the parts of one multipart upload.
_MAX_PARTS = 10_000
_MAKE_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
_MAKE_WHSEC = (
    'python3 -c "import base64, secrets; '
    "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\""
)


# ── parsers of one value: a ValueError names the problem, the reader adds the variable ──


def _database_url(value: str) -> str:
    if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ValueError(
            "expected sqlite:///PATH or postgresql://USER@HOST/DB, "
            f"got {value.split('://', maxsplit=1)[0]!r}"
        )
    return value


def _bucket(value: str) -> str:
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value):
        raise ValueError(
            f"{value!r} is not a valid bucket name (3-63 lowercase letters, digits, '.', '-')"
        )
    return value


def _key_prefix(value: str) -> str:
    if value.startswith("/"):
        raise ValueError("must not start with '/'")
    return value if value.endswith("/") else value + "/"


def _signing_key(value: str) -> Secret:
    if len(value) < 16:
        raise ValueError(
            "every key must be at least 16 characters long "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return Secret(value)


def _admin_token(value: str) -> Secret:
    # It opens the API and the gallery to whoever holds it, from wherever /v1 is reachable.
    if len(value) < 24:
        raise ValueError(
            "must be at least 24 characters long "
            '(make one with: python -c "import secrets; print(secrets.token_urlsafe(32))")'
        )
    return Secret(value)


def _notify_secret(value: str) -> Secret:
    try:
        if len(base64.b64decode(value.removeprefix("whsec_"), validate=True)) < 24:
            raise ValueError
    except ValueError:
        raise ValueError(
            "expected a Standard Webhooks secret: whsec_ + base64 of at least 24 random bytes "
            '(make one with: python -c "import base64, secrets; '
            "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\")"
        ) from None
    return Secret(value)


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address or network (examples: 127.0.0.1, 10.0.0.0/8)"
        ) from None


def _hosts(value: str) -> frozenset[str]:
    return frozenset(host.lower() for host in items(text)(value))


def _credits(value: str) -> float:
    try:
        budget = float(value)
    except ValueError:
        raise ValueError(f"expected a number of credits, got {value!r}") from None
    if not 0 <= budget < 1e12:
        raise ValueError("must be zero or more credits")
    return budget


def _presign_expiry(value: str) -> float:
    """How long a presigned S3 URL stays valid: Signature Version 4 allows seven days at most,
    so a longer setting is refused at start-up rather than by S3 at the first link."""
    seconds = duration(value)
    if seconds > 7 * 86400:
        raise ValueError("S3 presigns URLs for at most 7d")
    return seconds


def _part_size(value: str) -> int:
    part_size = parse_byte_size(value)
    if part_size < 5 * 1024 * 1024:
        raise ValueError("S3 needs parts of at least 5MiB")
    return part_size


# `noqa: RUF009`: ruff takes setting() for a call computing a shared mutable default; it
# returns a dataclasses.field, and the defaults it parses are immutable.
@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything receiver can be told, already parsed and checked: the one table of the
    settings (each field: its variable, parser, default and help)."""

    # ── Storage ──
    database_url: str = setting(
        "RECEIVER_DATABASE_URL",
        _database_url,
        default="sqlite:///var/receiver.db",
        section="Storage",
        brief="sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB",
        help="the metadata store: `sqlite:///relative/path`, `sqlite:////absolute/path`, or "
        "`postgresql://user:password@host:5432/db` for several replicas",
        more="A SQLite file's directory must exist (only the default's `var/` is created); "
        "commands that only read (`jobs`, `show`, `deliveries`, ...) never create a database.",
        note="PostgreSQL: the password URL-safe (e.g. from `openssl rand -hex 24`). SQLite, one "
        "host only: sqlite:////var/lib/receiver/receiver.db. (docker compose builds this URL from "
        "POSTGRES_PASSWORD and ignores this line.)",
        example="postgresql://receiver:CHANGE_ME@127.0.0.1:5432/receiver",
        must_set=True,
        # A PostgreSQL URL may carry a password.
        in_repr=False,
    )
    s3_endpoint_url: str | None = setting(
        "RECEIVER_S3_ENDPOINT_URL",
        url,
        section="Storage",
        brief="S3 endpoint, empty for AWS",
        help="endpoint of an S3-compatible store, e.g. `http://127.0.0.1:8333` (SeaweedFS on the "
        "same VM); empty for AWS",
        unset="(AWS)",
        note="(docker compose sets http://seaweedfs:8333 and ignores this line.)",
        example="",
    )
    s3_bucket: str = setting(
        "RECEIVER_S3_BUCKET",
        _bucket,
        default="receiver-videos",
        section="Storage",
        brief="the bucket of the videos",
        help="bucket for videos",
        more="Created on start if missing and the credentials may create buckets (the shipped "
        "least-privilege SeaweedFS identity may not: create it once, see [deploy.md](deploy.md)).",
        note="Created on start if missing and the keys may create buckets; with the shipped "
        "least-privilege SeaweedFS identity create it once, see docs/deploy.md.",
        example="receiver-videos",
    )
    s3_prefix: str = setting(
        "RECEIVER_S3_PREFIX",
        _key_prefix,
        default="videos/",
        section="Storage",
        help="key prefix of the videos (a trailing `/` is added)",
    )
    s3_addressing_style: AddressingStyle = setting(  # noqa: RUF009
        "RECEIVER_S3_ADDRESSING_STYLE",
        choice(ADDRESSING_STYLES),
        default="path",
        section="Storage",
        help="`path` (SeaweedFS, MinIO), `virtual` or `auto` (AWS accepts all three)",
    )
    aws_access_key_id: str | None = setting(
        "AWS_ACCESS_KEY_ID",
        text,
        section="Storage",
        brief="S3 access key",
        help="S3 access key; with SeaweedFS, the one in s3-identities.json",
        unset="(boto3's chain)",
        example="CHANGE_ME",
        must_set=True,
    )
    aws_secret_access_key: Secret | None = setting(  # noqa: RUF009
        "AWS_SECRET_ACCESS_KEY",
        secret,
        section="Storage",
        brief="S3 secret key",
        help="S3 secret key, of the same pair",
        unset="(boto3's chain)",
        example="CHANGE_ME",
        must_set=True,
        secret=True,
    )
    aws_region: str = setting(
        "AWS_REGION",
        text,
        default="us-east-1",
        section="Storage",
        help="S3 region",
        example="us-east-1",
        fallback=Variable(
            name="AWS_DEFAULT_REGION",
            section="Storage",
            meaning="the S3 region, read only when `AWS_REGION` is unset",
        ),
    )

    # ── Callbacks ──
    public_url: str | None = setting(
        "RECEIVER_PUBLIC_URL",
        url,
        section="Callbacks",
        brief="https base URL the provider calls back",
        help="the https base URL the provider calls back: "
        "`<PUBLIC_URL>/callbacks/<provider>/<token>`",
        unset="(required to submit)",
        more="Must be https unless `RECEIVER_INSECURE=1`. `receiver doctor` checks that it "
        "reaches this receiver.",
        note="(docker compose derives it from RECEIVER_DOMAIN and ignores this line.)",
        example="https://receiver.example.com",
        must_set=True,
    )
    secret_keys: tuple[Secret, ...] = setting(
        "RECEIVER_SECRET_KEYS",
        items(_signing_key),
        default="",
        section="Callbacks",
        brief="comma-separated signing keys, newest first",
        help="keys that sign callback URLs, comma-separated, newest first: the first signs, all "
        "verify; each at least 16 characters",
        unset="(required)",
        more="Rotate as [below](#rotating-the-signing-key). An empty key "
        "(`RECEIVER_SECRET_KEYS=,`) is refused.",
        note=f"Make one with: {_MAKE_KEY}",
        example="CHANGE_ME",
        must_set=True,
        secret=True,
    )
    token_max_age: float = setting(
        "RECEIVER_TOKEN_MAX_AGE",
        duration,
        default="72h",
        section="Callbacks",
        help="how long a callback URL stays valid: generation time plus the provider's 24 h link "
        "window, with margin",
    )
    max_body_bytes: int = setting(
        "RECEIVER_MAX_BODY_BYTES",
        size,
        default="1MiB",
        section="Callbacks",
        help="larger callback bodies are refused with 413 (keep the proxy's limit equal); the API "
        "and the gallery take up to 14 MB (a job with its first frame inside), or this if it is "
        "more",
    )
    request_timeout: float = setting(
        "RECEIVER_REQUEST_TIMEOUT",
        duration,
        default="10s",
        section="Callbacks",
        help="a request head or callback body that takes longer to arrive is refused (408) or cut "
        "off",
    )
    max_headers: int = setting(
        "RECEIVER_MAX_HEADERS",
        integer(),
        default="100",
        section="Callbacks",
        help="a request with more headers is answered 431 and its connection closed",
        more="See [security.md](security.md).",
    )
    max_header_bytes: int = setting(
        "RECEIVER_MAX_HEADER_BYTES",
        size,
        default="32KiB",
        section="Callbacks",
        help="a request line and headers larger than this are answered 431",
    )
    confirm_with_provider: bool = setting(
        "RECEIVER_CONFIRM_WITH_PROVIDER",
        flag,
        default="0",
        section="Callbacks",
        help="`1`: confirm every completed callback through the provider's task API before "
        "downloading, from the URL the provider gives",
        more="See [intake.md](intake.md).",
    )
    adopt_unconfirmed: bool = setting(
        "RECEIVER_ADOPT_UNCONFIRMED",
        flag,
        default="0",
        section="Callbacks",
        help="`1`: an unbound callback URL (`receiver callback-url`) adopts jobs even when the "
        "provider cannot confirm their task (no API key)",
        more="See [security.md](security.md).",
    )
    adopt_limit: int = setting(
        "RECEIVER_ADOPT_LIMIT",
        integer(),
        default="1000",
        section="Callbacks",
        help="jobs one unbound callback URL may adopt in 24 hours; past it `429 adoption_limit`",
    )
    trusted_proxies: tuple[str, ...] = setting(
        "RECEIVER_TRUSTED_PROXIES",
        items(_network),
        default="",
        section="Callbacks",
        help="addresses or networks of reverse proxies whose `X-Forwarded-For` is believed, "
        "comma-separated",
        more="Caddy or nginx on the same VM: `127.0.0.1`. Never `0.0.0.0/0`: anyone could choose "
        "the address they are logged as (`receiver doctor` says so).",
        note="(docker compose sets Caddy's container address and ignores this line.)",
        example="127.0.0.1",
    )
    rejected_retention: float = setting(
        "RECEIVER_REJECTED_RETENTION",
        duration,
        default="7d",
        section="Callbacks",
        help="rejected deliveries are deleted from the delivery log after this long",
    )
    rejected_max_rows: int = setting(
        "RECEIVER_REJECTED_MAX_ROWS",
        integer(),
        default="200000",
        section="Callbacks",
        help="at most this many rejected deliveries are kept, the newest (about 80 MB at the "
        "default)",
    )
    rejected_log_rate: int = setting(
        "RECEIVER_REJECTED_LOG_RATE",
        integer(minimum=0),
        default="20",
        section="Callbacks",
        help="requests without a valid token written down per second and process (bursts of five "
        "times as many); past it they are answered and counted only (`0`: none written)",
    )
    purge_interval: float = setting(
        "RECEIVER_PURGE_INTERVAL",
        duration,
        default="10m",
        section="Callbacks",
        help="how often a worker deletes rejected deliveries past their retention (and outbox "
        "entries no notifier took within 24 h)",
    )

    # ── Providers ──
    evolink_api_key: Secret | None = setting(  # noqa: RUF009
        "EVOLINK_API_KEY",
        secret,
        section="Providers",
        brief="to submit to EvoLink",
        help="your EvoLink API key (`sk-evo-…`)",
        unset="(required to submit)",
        example="CHANGE_ME",
        must_set=True,
        secret=True,
    )
    evolink_base_url: str = setting(
        "EVOLINK_BASE_URL",
        url,
        default="https://api.evolink.ai",
        section="Providers",
        help="EvoLink's API base (https unless `RECEIVER_INSECURE=1`); the simulator's URL in "
        "development",
    )
    kling_access_key: str | None = setting(
        "KLING_ACCESS_KEY",
        text,
        section="Providers",
        brief="to submit to Kling, with KLING_SECRET_KEY",
        help="the access key of your Kling key pair; it names the pair and travels readable "
        "inside every token",
        unset="(required to submit to Kling)",
    )
    kling_secret_key: Secret | None = setting(  # noqa: RUF009
        "KLING_SECRET_KEY",
        secret,
        section="Providers",
        help="the secret key that signs Kling's tokens (HS256 JWTs, 30 minutes); never sent",
        unset="(required with the access key)",
        more="Setting one of the pair without the other stops start-up.",
        secret=True,
    )
    kling_base_url: str = setting(
        "KLING_BASE_URL",
        url,
        default="https://api-singapore.klingai.com",
        section="Providers",
        help="Kling's API base (https unless `RECEIVER_INSECURE=1`); the simulator's URL in "
        "development",
    )

    # ── Submitting ──
    max_credits_per_day: float | None = setting(
        "RECEIVER_MAX_CREDITS_PER_DAY",
        _credits,
        section="Submitting",
        help="credits the jobs created in one UTC day may cost; a job past it is refused before "
        "anything is recorded or sent (`0` refuses every job)",
        unset="(no limit)",
        more="Counted as reserved by the provider, or estimated until it says; a job without a "
        "price (a Kling model other than `kling-v3`) is refused too, see "
        "[submitting.md](submitting.md#costs-and-the-daily-budget).",
    )
    s3_input_prefix: str = setting(
        "RECEIVER_S3_INPUT_PREFIX",
        _key_prefix,
        default="inputs/",
        section="Submitting",
        help="key prefix of first-frame images uploaded from local files "
        "(`<prefix><sha256>.png`), in `RECEIVER_S3_BUCKET`",
    )
    image_url_expiry: float = setting(
        "RECEIVER_IMAGE_URL_EXPIRY",
        _presign_expiry,
        default="24h",
        section="Submitting",
        help="how long the presigned URL of an uploaded first frame stays valid for the provider "
        "to fetch it (at most `7d`, S3's limit)",
    )

    # ── Archiving ──
    part_size: int = setting(
        "RECEIVER_PART_SIZE",
        _part_size,
        default="6MiB",
        section="Archiving",
        help="multipart part size: at least 5 MiB, and large enough that 10,000 parts hold "
        "`RECEIVER_MAX_VIDEO_BYTES`; memory is about two parts per video being archived",
        more="Every part but the last has exactly this size. Larger parts mean fewer requests (a "
        "little less CPU per GB) and more memory.",
    )
    parts_in_flight: int = setting(
        "RECEIVER_PARTS_IN_FLIGHT",
        integer(),
        default="1",
        section="Archiving",
        help="parts of one video sent to the store while the next is read (1 is double "
        "buffering); more helps a store far away, at one part of memory each",
    )
    store_patience: float = setting(
        "RECEIVER_STORE_PATIENCE",
        duration,
        default="5m",
        section="Archiving",
        help="how long a part upload waits out an S3 store that is down before the attempt fails; "
        "the part's bytes are held, so the source is not read again",
        more="Tries up to 15 s apart, the lease renewed meanwhile. An upload that is gone "
        "(`NoSuchUpload`: aborted by another worker or a lifecycle rule) is not waited for: the "
        "attempt ends at once and the retry starts a new upload.",
    )
    archive_concurrency: int = setting(
        "RECEIVER_ARCHIVE_CONCURRENCY",
        integer(),
        default="2",
        section="Archiving",
        help="videos archived at once per worker process",
    )
    max_video_bytes: int = setting(
        "RECEIVER_MAX_VIDEO_BYTES",
        size,
        default="2GiB",
        section="Archiving",
        help="larger videos are refused",
    )
    archive_max_attempts: int = setting(
        "RECEIVER_ARCHIVE_MAX_ATTEMPTS",
        integer(),
        default="200",
        section="Archiving",
        help="attempts before an archive is marked failed; transient failures are retried with "
        "backoff (at most 10 minutes apart)",
        more="So the link's 24 h deadline usually comes first.",
    )
    deadline_warning: float = setting(
        "RECEIVER_DEADLINE_WARNING",
        duration,
        default="2h",
        section="Archiving",
        help="an unfinished archive whose link expires sooner than this is logged "
        "(`archive.deadline_near`) and counted, once per job",
        more="The counter is `receiver_archive_deadline_warnings_total`.",
    )
    deadline_check_interval: float = setting(
        "RECEIVER_DEADLINE_CHECK_INTERVAL",
        duration,
        default="1m",
        section="Archiving",
        help="how often a worker looks for archives near their deadline",
    )
    fetch_allowed_hosts: frozenset[str] = setting(
        "RECEIVER_FETCH_ALLOWED_HOSTS",
        _hosts,
        default="",
        section="Archiving",
        help="comma-separated host names videos may be downloaded from; others are refused",
        unset="(any public host)",
    )
    fetch_timeout: float = setting(
        "RECEIVER_FETCH_TIMEOUT",
        duration,
        default="30s",
        section="Archiving",
        help="connect/read timeout of video downloads",
    )
    fetch_min_rate: int = setting(
        "RECEIVER_FETCH_MIN_RATE",
        size,
        default="16KiB",
        section="Archiving",
        help="bytes a second a video source must average over each `RECEIVER_FETCH_RATE_WINDOW`, "
        "or the attempt fails and is retried later (`0`: no floor)",
        more="So a source that trickles cannot hold an archive thread until its link dies.",
    )
    fetch_rate_window: float = setting(
        "RECEIVER_FETCH_RATE_WINDOW",
        duration,
        default="1m",
        section="Archiving",
        help="the window `RECEIVER_FETCH_MIN_RATE` is averaged over",
    )
    lease_seconds: float = setting(
        "RECEIVER_LEASE_SECONDS",
        duration,
        default="120s",
        section="Archiving",
        help="how long a worker's claim on an archive lasts without renewal (renewed every third "
        "of it while streaming); a dead worker's task is taken over after this",
    )
    video_retention: float | None = setting(
        "RECEIVER_VIDEO_RETENTION",
        duration,
        section="Archiving",
        help="a job whose video was stored longer ago than this is deleted, video and rows, by "
        "the workers' retention chore",
        unset="(kept for ever)",
    )
    input_retention: float = setting(
        "RECEIVER_INPUT_RETENTION",
        duration,
        default="7d",
        section="Archiving",
        help="a first frame staged in the bucket for the provider is deleted once its last use is "
        "older than this (or than `RECEIVER_IMAGE_URL_EXPIRY`, if longer)",
    )

    # ── Recovery ──
    watchdog_grace: float = setting(
        "RECEIVER_WATCHDOG_GRACE",
        duration,
        default="10m",
        section="Recovery",
        help="how long past the provider's estimate a callback may be late before the watchdog "
        "asks the task API",
    )
    watchdog_interval: float = setting(
        "RECEIVER_WATCHDOG_INTERVAL",
        duration,
        default="30s",
        section="Recovery",
        help="how often the worker's watchdog looks for overdue jobs",
    )

    # ── Notifications ──
    notify_urls: tuple[str, ...] = setting(
        "RECEIVER_NOTIFY_URLS",
        items(url),
        default="",
        section="Notifications",
        help="comma-separated endpoints that receive each job's final event as JSON, signed per "
        "Standard Webhooks; https unless `RECEIVER_INSECURE=1`; needs `RECEIVER_NOTIFY_SECRET`",
        more="The events: `asset.stored`, `job.failed`, `job.cancelled`, `job.expired`, "
        "`job.submit_failed`.",
    )
    notify_secret: Secret | None = setting(  # noqa: RUF009
        "RECEIVER_NOTIFY_SECRET",
        _notify_secret,
        section="Notifications",
        help="the signing secret, `whsec_` + base64 of at least 24 random bytes; subscribers "
        "verify with it",
        more="E.g. with the `standardwebhooks` library.",
        note=f"Make one with: {_MAKE_WHSEC}",
        secret=True,
    )
    notify_interval: float = setting(
        "RECEIVER_NOTIFY_INTERVAL",
        duration,
        default="1s",
        section="Notifications",
        help="how often a notifier looks for new final events and for notifications due again",
    )

    # ── Operations ──
    admin_token: Secret | None = setting(  # noqa: RUF009
        "RECEIVER_ADMIN_TOKEN",
        _admin_token,
        section="Operations",
        brief="bearer token of the API under /v1 and of the gallery",
        help="bearer token of the HTTP API under `/v1` and the gallery's sign-in; without it the "
        "API answers 401; at least 24 characters",
        more=f"Make one with `{_MAKE_KEY}`; changing it signs every gallery session out. The "
        "proxy configs in `infra/` do not publish `/v1`.",
        note="The proxy configs in infra/ do not publish /v1: call it on 127.0.0.1:8000. "
        f"Make one with: {_MAKE_KEY}",
        secret=True,
    )
    api_url: str = setting(
        "RECEIVER_API_URL",
        url,
        default="http://127.0.0.1:8000",
        section="Operations",
        help="where `receiver wait` and `submit --wait` reach the receiver's API",
    )
    presign_expiry: float = setting(
        "RECEIVER_PRESIGN_EXPIRY",
        _presign_expiry,
        default="1h",
        section="Operations",
        help="how long the presigned video links handed out by the API and `--wait` stay valid "
        "(at most `7d`, S3's limit)",
    )
    insecure: bool = setting(
        "RECEIVER_INSECURE",
        flag,
        default="0",
        section="Operations",
        brief="1: http URLs and loopback downloads (development only)",
        help="`1` allows http public, provider and notification URLs and downloads from loopback: "
        "development and tests only",
        more="It says so loudly in the log.",
        note="Never in production.",
    )
    shutdown_timeout: float = setting(
        "RECEIVER_SHUTDOWN_TIMEOUT",
        duration,
        default="30s",
        section="Operations",
        help="on SIGTERM, how long requests and archives in flight get to wind down",
    )
    log_level: str = setting(
        "RECEIVER_LOG_LEVEL",
        choice(LOG_LEVELS),
        default="info",
        section="Operations",
        help="`debug`, `info`, `warning` or `error`",
    )
    log_format: str = setting(
        "RECEIVER_LOG_FORMAT",
        choice(LOG_FORMATS),
        default="auto",
        section="Operations",
        help="`json`, `console`, or `auto` (JSON unless stderr is a terminal)",
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        # The one step mypy cannot follow: each value comes from its field's own declaration,
        # whose parser mypy checked against the field's type (setting() is generic), and
        # tests/unit/test_settings_table.py checks every field's value against its annotation.
        values: dict[str, Any] = {name: declared.read(environ) for name, declared in declarations()}
        settings = cls(**values)
        check_together(settings)
        return settings

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


def declarations() -> tuple[tuple[str, Setting[Any]], ...]:
    """Every field of :class:`Settings` with its declaration, in the table's order."""
    return _DECLARATIONS


def _declarations() -> tuple[tuple[str, Setting[Any]], ...]:
    found = []
    for field in dataclasses.fields(Settings):
        declared = declaration(field.metadata)
        if declared is None:
            raise AssertionError(f"Settings.{field.name} is not declared with setting()")
        found.append((field.name, declared))
    return tuple(found)


_DECLARATIONS = _declarations()
#: Every environment variable receiver reads, in the docs' order within each section.
VARIABLES: tuple[Variable, ...] = (
    *(variable for _, declared in _DECLARATIONS for variable in declared.variables),
    *SIMULATOR_VARIABLES,
)


# ── checks of several settings together, after each was parsed alone ──

#: Why a variable's URL must be https, for the message that refuses an http one.
_WHY_HTTPS = {
    "RECEIVER_PUBLIC_URL": "the provider only calls https callbacks",
    "EVOLINK_BASE_URL": "the API key would cross the network in clear text",
    "KLING_BASE_URL": "the signed API tokens would cross the network in clear text",
    "RECEIVER_NOTIFY_URLS": "notifications go over https",
}


def check_together(settings: Settings) -> None:
    """Raise a ConfigError for settings that are each valid but wrong together."""
    if not settings.insecure:
        _require_https("RECEIVER_PUBLIC_URL", settings.public_url)
        _require_https("EVOLINK_BASE_URL", settings.evolink_base_url)
    _check_kling_pair(settings)
    if not settings.insecure:
        _require_https("KLING_BASE_URL", settings.kling_base_url)
        for notify_url in settings.notify_urls:
            _require_https("RECEIVER_NOTIFY_URLS", notify_url)
    if settings.notify_urls and settings.notify_secret is None:
        # Unsigned notifications are never sent; saying nothing would look like an outage.
        raise ConfigError(
            "RECEIVER_NOTIFY_SECRET",
            "is not set, but RECEIVER_NOTIFY_URLS is: notifications are signed, so set both "
            "(or neither)",
        )
    if settings.part_size * _MAX_PARTS < settings.max_video_bytes:
        # S3 allows 10,000 parts per upload: the largest video must fit in them.
        raise ConfigError(
            "RECEIVER_PART_SIZE",
            f"{settings.part_size} bytes x {_MAX_PARTS:,} parts cannot hold a video of "
            f"RECEIVER_MAX_VIDEO_BYTES ({settings.max_video_bytes} bytes): raise the part size",
        )


def _require_https(name: str, value: str | None) -> None:
    if value is not None and urlsplit(value).scheme != "https":
        raise ConfigError(
            name,
            f"must be an https URL ({_WHY_HTTPS[name]} unless "
            "RECEIVER_INSECURE=1, which is for local development only)",
        )


def _check_kling_pair(settings: Settings) -> None:
    # Half a key pair is a mistake worth stopping for: no request could be signed.
    if settings.kling_access_key is not None and settings.kling_secret_key is None:
        raise ConfigError("KLING_SECRET_KEY", "is not set, but KLING_ACCESS_KEY is")
    if settings.kling_secret_key is not None and settings.kling_access_key is None:
        raise ConfigError("KLING_ACCESS_KEY", "is not set, but KLING_SECRET_KEY is")
