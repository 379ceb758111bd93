"""Every environment variable receiver reads: name, default, meaning, section.

This table is the one declaration of the settings. :meth:`receiver.config.Settings.from_env`
takes every default from it (reading a variable that is not declared here is a programming
error), and ``infra/env.example`` and the tables of ``docs/configuration.md`` are generated
from it (``python -m receiver.config_docs``; a unit test fails when either is stale).

``meaning`` is one line of plain text (backticks allowed): it is the comment in
``env.example`` and the start of the docs' cell; ``more`` is Markdown for the docs only, and
``note`` a remark for ``env.example`` only. ``default`` is written as a person would set it,
and parsed by the same code as a value from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SECTIONS", "SIMULATOR", "VARIABLES", "Variable", "declared"]

#: The docs' sections, in order (``env.example`` adds "Must set" and "Docker compose only").
SECTIONS = (
    "Storage",
    "Callbacks",
    "Providers",
    "Submitting",
    "Archiving",
    "Recovery",
    "Notifications",
    "Operations",
    "Simulator",
)
#: Variables only ``receiver simulator`` reads (not in ``env.example``: never in production).
SIMULATOR = "Simulator"

_MAKE_KEY = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'


@dataclass(frozen=True, kw_only=True)
class Variable:
    name: str
    section: str
    meaning: str
    #: As set in the environment; None: unset unless given.
    default: str | None = None
    #: What the docs say in the default column when there is no default.
    unset: str = "(none)"
    more: str = ""
    note: str = ""
    #: ``env.example`` writes ``NAME=example`` (to be edited) rather than ``#NAME=default``.
    example: str | None = None
    #: ``env.example`` lists it first, under "Must set".
    must_set: bool = False
    secret: bool = False

    @property
    def in_example(self) -> bool:
        return self.section != SIMULATOR


VARIABLES: tuple[Variable, ...] = (
    # ── Storage ──
    Variable(
        name="RECEIVER_DATABASE_URL",
        section="Storage",
        default="sqlite:///var/receiver.db",
        meaning="the metadata store: `sqlite:///relative/path`, `sqlite:////absolute/path`, "
        "or `postgresql://user:password@host:5432/db` for several replicas",
        more="A SQLite file's directory must exist (only the default's `var/` is created); "
        "commands that only read (`jobs`, `show`, `deliveries`, ...) never create a database.",
        note="PostgreSQL: the password URL-safe (e.g. from `openssl rand -hex 24`). SQLite, one "
        "host only: sqlite:////var/lib/receiver/receiver.db. (docker compose builds this URL "
        "from POSTGRES_PASSWORD and ignores this line.)",
        example="postgresql://receiver:CHANGE_ME@127.0.0.1:5432/receiver",
        must_set=True,
    ),
    Variable(
        name="RECEIVER_S3_ENDPOINT_URL",
        section="Storage",
        unset="(AWS)",
        meaning="endpoint of an S3-compatible store, e.g. `http://127.0.0.1:8333` "
        "(SeaweedFS on the same VM); empty for AWS",
        note="(docker compose sets http://seaweedfs:8333 and ignores this line.)",
        example="",
    ),
    Variable(
        name="RECEIVER_S3_BUCKET",
        section="Storage",
        default="receiver-videos",
        meaning="bucket for videos",
        more="Created on start if missing and the credentials may create buckets (the shipped "
        "least-privilege SeaweedFS identity may not: create it once, see [deploy.md](deploy.md)).",
        note="Created on start if missing and the keys may create buckets; with the shipped "
        "least-privilege SeaweedFS identity create it once, see docs/deploy.md.",
        example="receiver-videos",
    ),
    Variable(
        name="RECEIVER_S3_PREFIX",
        section="Storage",
        default="videos/",
        meaning="key prefix of the videos (a trailing `/` is added)",
    ),
    Variable(
        name="RECEIVER_S3_ADDRESSING_STYLE",
        section="Storage",
        default="path",
        meaning="`path` (SeaweedFS, MinIO), `virtual` or `auto` (AWS accepts all three)",
    ),
    Variable(
        name="AWS_ACCESS_KEY_ID",
        section="Storage",
        unset="(boto3's chain)",
        meaning="S3 access key; with SeaweedFS, the one in s3-identities.json",
        example="CHANGE_ME",
        must_set=True,
    ),
    Variable(
        name="AWS_SECRET_ACCESS_KEY",
        section="Storage",
        unset="(boto3's chain)",
        meaning="S3 secret key, of the same pair",
        example="CHANGE_ME",
        must_set=True,
        secret=True,
    ),
    Variable(
        name="AWS_REGION",
        section="Storage",
        default="us-east-1",
        meaning="S3 region",
        example="us-east-1",
    ),
    Variable(
        name="AWS_DEFAULT_REGION",
        section="Storage",
        meaning="the S3 region, read only when `AWS_REGION` is unset",
    ),
    # ── Callbacks ──
    Variable(
        name="RECEIVER_PUBLIC_URL",
        section="Callbacks",
        unset="(required to submit)",
        meaning="the https base URL the provider calls back: "
        "`<PUBLIC_URL>/callbacks/<provider>/<token>`",
        more="Must be https unless `RECEIVER_INSECURE=1`. `receiver doctor` checks that it "
        "reaches this receiver.",
        note="(docker compose derives it from RECEIVER_DOMAIN and ignores this line.)",
        example="https://receiver.example.com",
        must_set=True,
    ),
    Variable(
        name="RECEIVER_SECRET_KEYS",
        section="Callbacks",
        unset="(required)",
        meaning="keys that sign callback URLs, comma-separated, newest first: the first signs, "
        "all verify; each at least 16 characters",
        more="Rotate as [below](#rotating-the-signing-key). An empty key (`RECEIVER_SECRET_KEYS=,`)"
        " is refused.",
        note=f"Make one with: {_MAKE_KEY}",
        example="CHANGE_ME",
        must_set=True,
        secret=True,
    ),
    Variable(
        name="RECEIVER_TOKEN_MAX_AGE",
        section="Callbacks",
        default="72h",
        meaning="how long a callback URL stays valid: generation time plus the provider's 24 h "
        "link window, with margin",
    ),
    Variable(
        name="RECEIVER_MAX_BODY_BYTES",
        section="Callbacks",
        default="1MiB",
        meaning="larger callback bodies are refused with 413 (keep the proxy's limit equal); "
        "the API and the gallery take up to 14 MB (a job with its first frame inside), or this "
        "if it is more",
    ),
    Variable(
        name="RECEIVER_REQUEST_TIMEOUT",
        section="Callbacks",
        default="10s",
        meaning="a request head or callback body that takes longer to arrive is refused (408) "
        "or cut off",
    ),
    Variable(
        name="RECEIVER_MAX_HEADERS",
        section="Callbacks",
        default="100",
        meaning="a request with more headers is answered 431 and its connection closed",
        more="See [security.md](security.md).",
    ),
    Variable(
        name="RECEIVER_MAX_HEADER_BYTES",
        section="Callbacks",
        default="32KiB",
        meaning="a request line and headers larger than this are answered 431",
    ),
    Variable(
        name="RECEIVER_CONFIRM_WITH_PROVIDER",
        section="Callbacks",
        default="0",
        meaning="`1`: confirm every completed callback through the provider's task API before "
        "downloading, from the URL the provider gives",
        more="See [intake.md](intake.md).",
    ),
    Variable(
        name="RECEIVER_ADOPT_UNCONFIRMED",
        section="Callbacks",
        default="0",
        meaning="`1`: an unbound callback URL (`receiver callback-url`) adopts jobs even when "
        "the provider cannot confirm their task (no API key)",
        more="See [security.md](security.md).",
    ),
    Variable(
        name="RECEIVER_ADOPT_LIMIT",
        section="Callbacks",
        default="1000",
        meaning="jobs one unbound callback URL may adopt in 24 hours; past it `429 adoption_limit`",
    ),
    Variable(
        name="RECEIVER_TRUSTED_PROXIES",
        section="Callbacks",
        meaning="addresses or networks of reverse proxies whose `X-Forwarded-For` is believed, "
        "comma-separated",
        more="Caddy or nginx on the same VM: `127.0.0.1`. Never `0.0.0.0/0`: anyone could "
        "choose the address they are logged as (`receiver doctor` says so).",
        note="(docker compose sets Caddy's container address and ignores this line.)",
        example="127.0.0.1",
    ),
    Variable(
        name="RECEIVER_REJECTED_RETENTION",
        section="Callbacks",
        default="7d",
        meaning="rejected deliveries are deleted from the delivery log after this long",
    ),
    Variable(
        name="RECEIVER_REJECTED_MAX_ROWS",
        section="Callbacks",
        default="200000",
        meaning="at most this many rejected deliveries are kept, the newest (about 80 MB at "
        "the default)",
    ),
    Variable(
        name="RECEIVER_REJECTED_LOG_RATE",
        section="Callbacks",
        default="20",
        meaning="requests without a valid token written down per second and process (bursts "
        "of five times as many); past it they are answered and counted only (`0`: none written)",
    ),
    Variable(
        name="RECEIVER_PURGE_INTERVAL",
        section="Callbacks",
        default="10m",
        meaning="how often a worker deletes rejected deliveries past their retention (and "
        "outbox entries no notifier took within 24 h)",
    ),
    # ── Providers ──
    Variable(
        name="EVOLINK_API_KEY",
        section="Providers",
        unset="(required to submit)",
        meaning="your EvoLink API key (`sk-evo-…`)",
        example="CHANGE_ME",
        must_set=True,
        secret=True,
    ),
    Variable(
        name="EVOLINK_BASE_URL",
        section="Providers",
        default="https://api.evolink.ai",
        meaning="EvoLink's API base (https unless `RECEIVER_INSECURE=1`); the simulator's URL "
        "in development",
    ),
    Variable(
        name="KLING_ACCESS_KEY",
        section="Providers",
        unset="(required to submit to Kling)",
        meaning="the access key of your Kling key pair; it names the pair and travels readable "
        "inside every token",
    ),
    Variable(
        name="KLING_SECRET_KEY",
        section="Providers",
        unset="(required with the access key)",
        meaning="the secret key that signs Kling's tokens (HS256 JWTs, 30 minutes); never sent",
        more="Setting one of the pair without the other stops start-up.",
        secret=True,
    ),
    Variable(
        name="KLING_BASE_URL",
        section="Providers",
        default="https://api-singapore.klingai.com",
        meaning="Kling's API base (https unless `RECEIVER_INSECURE=1`); the simulator's URL in "
        "development",
    ),
    # ── Submitting ──
    Variable(
        name="RECEIVER_MAX_CREDITS_PER_DAY",
        section="Submitting",
        unset="(no limit)",
        meaning="credits the jobs created in one UTC day may cost; a job past it is refused "
        "before anything is recorded or sent (`0` refuses every job)",
        more="Counted as reserved by the provider, or estimated until it says; a job without a "
        "price (a Kling model other than `kling-v3`) is refused too, see "
        "[submitting.md](submitting.md#costs-and-the-daily-budget).",
    ),
    Variable(
        name="RECEIVER_S3_INPUT_PREFIX",
        section="Submitting",
        default="inputs/",
        meaning="key prefix of first-frame images uploaded from local files "
        "(`<prefix><sha256>.png`), in `RECEIVER_S3_BUCKET`",
    ),
    Variable(
        name="RECEIVER_IMAGE_URL_EXPIRY",
        section="Submitting",
        default="24h",
        meaning="how long the presigned URL of an uploaded first frame stays valid for the "
        "provider to fetch it (at most `7d`, S3's limit)",
    ),
    # ── Archiving ──
    Variable(
        name="RECEIVER_PART_SIZE",
        section="Archiving",
        default="6MiB",
        meaning="multipart part size: at least 5 MiB, and large enough that 10,000 parts hold "
        "`RECEIVER_MAX_VIDEO_BYTES`; memory is about two parts per video being archived",
        more="Every part but the last has exactly this size. Larger parts mean fewer requests "
        "(a little less CPU per GB) and more memory.",
    ),
    Variable(
        name="RECEIVER_PARTS_IN_FLIGHT",
        section="Archiving",
        default="1",
        meaning="parts of one video sent to the store while the next is read (1 is double "
        "buffering); more helps a store far away, at one part of memory each",
    ),
    Variable(
        name="RECEIVER_STORE_PATIENCE",
        section="Archiving",
        default="5m",
        meaning="how long a part upload waits out an S3 store that is down before the attempt "
        "fails; the part's bytes are held, so the source is not read again",
        more="Tries up to 15 s apart, the lease renewed meanwhile. An upload that is gone "
        "(`NoSuchUpload`: aborted by another worker or a lifecycle rule) is not waited for: the "
        "attempt ends at once and the retry starts a new upload.",
    ),
    Variable(
        name="RECEIVER_ARCHIVE_CONCURRENCY",
        section="Archiving",
        default="2",
        meaning="videos archived at once per worker process",
    ),
    Variable(
        name="RECEIVER_MAX_VIDEO_BYTES",
        section="Archiving",
        default="2GiB",
        meaning="larger videos are refused",
    ),
    Variable(
        name="RECEIVER_ARCHIVE_MAX_ATTEMPTS",
        section="Archiving",
        default="200",
        meaning="attempts before an archive is marked failed; transient failures are retried "
        "with backoff (at most 10 minutes apart)",
        more="So the link's 24 h deadline usually comes first.",
    ),
    Variable(
        name="RECEIVER_DEADLINE_WARNING",
        section="Archiving",
        default="2h",
        meaning="an unfinished archive whose link expires sooner than this is logged "
        "(`archive.deadline_near`) and counted, once per job",
        more="The counter is `receiver_archive_deadline_warnings_total`.",
    ),
    Variable(
        name="RECEIVER_DEADLINE_CHECK_INTERVAL",
        section="Archiving",
        default="1m",
        meaning="how often a worker looks for archives near their deadline",
    ),
    Variable(
        name="RECEIVER_FETCH_ALLOWED_HOSTS",
        section="Archiving",
        unset="(any public host)",
        meaning="comma-separated host names videos may be downloaded from; others are refused",
    ),
    Variable(
        name="RECEIVER_FETCH_TIMEOUT",
        section="Archiving",
        default="30s",
        meaning="connect/read timeout of video downloads",
    ),
    Variable(
        name="RECEIVER_FETCH_MIN_RATE",
        section="Archiving",
        default="16KiB",
        meaning="bytes a second a video source must average over each "
        "`RECEIVER_FETCH_RATE_WINDOW`, or the attempt fails and is retried later (`0`: no floor)",
        more="So a source that trickles cannot hold an archive thread until its link dies.",
    ),
    Variable(
        name="RECEIVER_FETCH_RATE_WINDOW",
        section="Archiving",
        default="1m",
        meaning="the window `RECEIVER_FETCH_MIN_RATE` is averaged over",
    ),
    Variable(
        name="RECEIVER_LEASE_SECONDS",
        section="Archiving",
        default="120s",
        meaning="how long a worker's claim on an archive lasts without renewal (renewed every "
        "third of it while streaming); a dead worker's task is taken over after this",
    ),
    Variable(
        name="RECEIVER_VIDEO_RETENTION",
        section="Archiving",
        unset="(kept for ever)",
        meaning="a job whose video was stored longer ago than this is deleted, video and rows, "
        "by the workers' retention chore",
    ),
    Variable(
        name="RECEIVER_INPUT_RETENTION",
        section="Archiving",
        default="7d",
        meaning="a first frame staged in the bucket for the provider is deleted once its last "
        "use is older than this (or than `RECEIVER_IMAGE_URL_EXPIRY`, if longer)",
    ),
    # ── Recovery ──
    Variable(
        name="RECEIVER_WATCHDOG_GRACE",
        section="Recovery",
        default="10m",
        meaning="how long past the provider's estimate a callback may be late before the "
        "watchdog asks the task API",
    ),
    Variable(
        name="RECEIVER_WATCHDOG_INTERVAL",
        section="Recovery",
        default="30s",
        meaning="how often the worker's watchdog looks for overdue jobs",
    ),
    # ── Notifications ──
    Variable(
        name="RECEIVER_NOTIFY_URLS",
        section="Notifications",
        meaning="comma-separated endpoints that receive each job's final event as JSON, signed "
        "per Standard Webhooks; https unless `RECEIVER_INSECURE=1`; needs `RECEIVER_NOTIFY_SECRET`",
        more="The events: `asset.stored`, `job.failed`, `job.cancelled`, `job.expired`, "
        "`job.submit_failed`.",
    ),
    Variable(
        name="RECEIVER_NOTIFY_SECRET",
        section="Notifications",
        meaning="the signing secret, `whsec_` + base64 of at least 24 random bytes; subscribers "
        "verify with it",
        more="E.g. with the `standardwebhooks` library.",
        note='Make one with: python3 -c "import base64, secrets; '
        "print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\"",
        secret=True,
    ),
    Variable(
        name="RECEIVER_NOTIFY_INTERVAL",
        section="Notifications",
        default="1s",
        meaning="how often a notifier looks for new final events and for notifications due again",
    ),
    # ── Operations ──
    Variable(
        name="RECEIVER_ADMIN_TOKEN",
        section="Operations",
        meaning="bearer token of the HTTP API under `/v1` and the gallery's sign-in; without it "
        "the API answers 401; at least 24 characters",
        more=f"Make one with `{_MAKE_KEY}`; changing it signs every gallery session out. The "
        "proxy configs in `infra/` do not publish `/v1`.",
        note=f"The proxy configs in infra/ do not publish /v1: call it on 127.0.0.1:8000. "
        f"Make one with: {_MAKE_KEY}",
        secret=True,
    ),
    Variable(
        name="RECEIVER_API_URL",
        section="Operations",
        default="http://127.0.0.1:8000",
        meaning="where `receiver wait` and `submit --wait` reach the receiver's API",
    ),
    Variable(
        name="RECEIVER_PRESIGN_EXPIRY",
        section="Operations",
        default="1h",
        meaning="how long the presigned video links handed out by the API and `--wait` stay "
        "valid (at most `7d`, S3's limit)",
    ),
    Variable(
        name="RECEIVER_INSECURE",
        section="Operations",
        default="0",
        meaning="`1` allows http public, provider and notification URLs and downloads from "
        "loopback: development and tests only",
        more="It says so loudly in the log.",
        note="Never in production.",
    ),
    Variable(
        name="RECEIVER_SHUTDOWN_TIMEOUT",
        section="Operations",
        default="30s",
        meaning="on SIGTERM, how long requests and archives in flight get to wind down",
    ),
    Variable(
        name="RECEIVER_LOG_LEVEL",
        section="Operations",
        default="info",
        meaning="`debug`, `info`, `warning` or `error`",
    ),
    Variable(
        name="RECEIVER_LOG_FORMAT",
        section="Operations",
        default="auto",
        meaning="`json`, `console`, or `auto` (JSON unless stderr is a terminal)",
    ),
    # ── Simulator ──
    Variable(
        name="RECEIVER_SIMULATOR_API_KEY",
        section=SIMULATOR,
        unset="(any key)",
        meaning="`receiver simulator`: the only EvoLink API key it accepts",
        secret=True,
    ),
    Variable(
        name="RECEIVER_SIMULATOR_KLING_SECRET_KEY",
        section=SIMULATOR,
        unset="(unchecked)",
        meaning="`receiver simulator`: the key Kling tokens must be signed with",
        secret=True,
    ),
)

_BY_NAME = {variable.name: variable for variable in VARIABLES}


def declared(name: str) -> Variable:
    """The declaration of ``name``; a KeyError names a variable read but never declared."""
    return _BY_NAME[name]
