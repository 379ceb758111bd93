"""What the doctor asks the outside world: the database, the bucket, the providers, and the
receiver itself through its public URL. Each probe returns plain facts;
:mod:`receiver.doctor.judges` decides what they mean, without I/O.

Nothing here creates anything a deployment keeps: the database is opened only if it exists
and is never migrated, the bucket is only read, a provider is asked about a task that does
not exist, and the round trip sends a callback the receiver refuses before it reads the
body (an expired token), which it writes down like any junk: one rejected delivery, no job,
purged after ``RECEIVER_REJECTED_RETENTION``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

import receiver
from receiver import providers
from receiver.config import Secret, Settings
from receiver.errors import (
    ConfigError,
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderQuotaError,
    ProviderUnavailable,
    ReceiverError,
)
from receiver.store.database import Database, is_database_error, open_database, require_database
from receiver.store.deliveries import Deliveries

# The wire format of callback tokens (receiver/tokens.py): a unit test holds this probe to
# CallbackSigner's verdict, so the two cannot drift apart.
from receiver.tokens import SALT as TOKEN_SALT

__all__ = [
    "BucketFacts",
    "DatabaseFacts",
    "ProviderFacts",
    "RoundTripFacts",
    "open_existing",
    "probe_bucket",
    "probe_database",
    "probe_provider",
    "probe_round_trip",
    "probe_token",
]

#: The route the probe goes to: every receiver knows it, whatever keys it holds.
PROBE_PROVIDER = "evolink"
_TIMEOUT = 10.0


def masked_url(url: str) -> str:
    """``url`` without the password it may carry."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


# ── the database ──


@dataclass(frozen=True, kw_only=True)
class DatabaseFacts:
    where: str
    #: Why it could not be used at all (missing file, refused connection), else None.
    problem: str | None = None
    pending: tuple[str, ...] = ()


def open_existing(url: str) -> Database:
    """The database at ``url``, refusing (ConfigError) to create a SQLite file."""
    require_database(url)
    return open_database(url)


def probe_database(db: Database | None, url: str, problem: str | None) -> DatabaseFacts:
    where = masked_url(url)
    if db is None:
        return DatabaseFacts(where=where, problem=problem or "not opened")
    # Imported here: the migration runner reads its files only when asked.
    from receiver.store.migrate import pending_migrations

    try:
        pending = pending_migrations(db)
    except Exception as exc:
        if not is_database_error(exc):
            raise
        return DatabaseFacts(where=where, problem=f"{type(exc).__name__}: {exc}")
    return DatabaseFacts(where=where, pending=tuple(f"{m.version:04d}_{m.name}" for m in pending))


def connect(url: str) -> tuple[Database | None, str | None]:
    """The database, or why not: missing, or unreachable."""
    try:
        db = open_existing(url)
        db.ping()
    except ConfigError as exc:
        return None, exc.message
    except Exception as exc:
        if not is_database_error(exc):
            raise
        return None, f"{type(exc).__name__}: {str(exc).strip()}"
    return db, None


# ── the bucket ──


@dataclass(frozen=True, kw_only=True)
class BucketFacts:
    bucket: str
    #: Why the bucket could not be reached (the store's wrapped message), else None.
    problem: str | None = None
    #: The bucket's lifecycle rules; None when they could not be read (see lifecycle_code).
    rules: tuple[dict[str, Any], ...] | None = None
    #: The S3 error code of reading them, when it failed.
    lifecycle_code: str | None = None


def probe_bucket(settings: Settings) -> BucketFacts:
    from botocore.exceptions import BotoCoreError, ClientError

    from receiver.storage import ObjectStore

    store = ObjectStore(settings, max_connections=2)
    try:
        store.ping()
    except ReceiverError as exc:
        return BucketFacts(bucket=settings.s3_bucket, problem=exc.message)
    try:
        answer = _lifecycle_client(settings).get_bucket_lifecycle_configuration(
            Bucket=settings.s3_bucket
        )
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code == "NoSuchLifecycleConfiguration":
            return BucketFacts(bucket=settings.s3_bucket, rules=())
        return BucketFacts(bucket=settings.s3_bucket, lifecycle_code=code or "unknown")
    except BotoCoreError as exc:
        return BucketFacts(bucket=settings.s3_bucket, lifecycle_code=type(exc).__name__)
    return BucketFacts(
        bucket=settings.s3_bucket, rules=tuple(dict(rule) for rule in answer.get("Rules", []))
    )


def _lifecycle_client(settings: Settings) -> Any:
    """A client like the store's, for the one call the store itself never makes."""
    import boto3
    from botocore.config import Config

    secret = settings.aws_secret_access_key
    return boto3.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        region_name=settings.aws_region,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.reveal() if secret else None,
        config=Config(
            s3={"addressing_style": settings.s3_addressing_style},
            retries={"mode": "standard", "max_attempts": 2},
            connect_timeout=_TIMEOUT,
            read_timeout=_TIMEOUT,
        ),
    )


# ── the providers ──


@dataclass(frozen=True, kw_only=True)
class ProviderFacts:
    name: str
    configured: bool
    #: accepted (the key works), refused (401/403), out_of_credits, unreachable
    outcome: str = ""
    detail: str = ""


#: What a provider's refusal of the made-up task says about the key, most specific first.
_OUTCOMES: tuple[tuple[type[ProviderError], str], ...] = (
    (ProviderNotFound, "accepted"),
    (ProviderAuthError, "refused"),
    (ProviderQuotaError, "out_of_credits"),
    (ProviderUnavailable, "unreachable"),
    # Any other answer came past the key check (a 400 for the made-up task id, a 429).
    (ProviderError, "accepted"),
)


def probe_provider(settings: Settings, name: str) -> ProviderFacts:
    """Ask ``name`` about a task that cannot exist: a 404 proves the key is accepted."""
    provider = providers.build(name, settings)
    try:
        if not provider.has_credentials:
            return ProviderFacts(name=name, configured=False)
        try:
            provider.get_task(f"receiver-doctor-{secrets.token_hex(6)}")
        except ProviderError as exc:
            outcome = next(outcome for kind, outcome in _OUTCOMES if isinstance(exc, kind))
            detail = "" if isinstance(exc, ProviderNotFound) else exc.message
            return ProviderFacts(name=name, configured=True, outcome=outcome, detail=detail)
        return ProviderFacts(name=name, configured=True, outcome="accepted")
    finally:
        provider.close()


# ── the round trip ──


class _LongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return 1  # 1970: expired under any RECEIVER_TOKEN_MAX_AGE


def probe_token(keys: Sequence[Secret], provider: str = PROBE_PROVIDER) -> str:
    """A callback token signed with ``keys`` and dated 1970.

    Only a receiver holding one of ``keys`` can tell it is expired (``expired_token``): any
    other answers ``bad_token``. Expired, it is refused before its body is read, names no
    job, and is written down (if at all) as a summary row like any junk.
    """
    serializer = URLSafeTimedSerializer(
        [key.reveal() for key in reversed(keys)], salt=TOKEN_SALT, signer=_LongAgo
    )
    return serializer.dumps({"p": provider, "l": "receiver-doctor"})


@dataclass(frozen=True, kw_only=True)
class RoundTripFacts:
    #: The URL posted to, the token replaced by "<probe token>".
    url: str
    failure: str | None = None
    status_code: int | None = None
    #: The answer's JSON "error" field, if it was JSON.
    error: str | None = None
    location: str | None = None
    excerpt: str = ""
    delivery_id: str | None = None
    #: Whether the delivery it names is in this deployment's database (None: not looked up).
    recorded: bool | None = None
    #: The client address the receiver wrote down for it.
    client_addr: str | None = None


def probe_round_trip(settings: Settings, db: Database | None) -> RoundTripFacts:
    assert settings.public_url is not None
    base = f"{settings.public_url}/callbacks/{PROBE_PROVIDER}"
    shown = f"{base}/<probe token>"
    try:
        response = httpx.post(
            f"{base}/{probe_token(settings.require_secret_keys())}",
            json={},
            headers={"user-agent": f"receiver-doctor/{receiver.__version__}"},
            timeout=_TIMEOUT,
            follow_redirects=False,
        )
    except httpx.HTTPError as exc:
        return RoundTripFacts(url=shown, failure=f"{type(exc).__name__}: {exc}")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    document = answer if isinstance(answer, dict) else {}
    error, delivery_id = document.get("error"), document.get("delivery_id")
    facts = RoundTripFacts(
        url=shown,
        status_code=response.status_code,
        error=error if isinstance(error, str) else None,
        location=response.headers.get("location"),
        excerpt=response.text[:120],
        delivery_id=delivery_id if isinstance(delivery_id, str) else None,
    )
    if db is None or facts.delivery_id is None:
        return facts
    with db.reading() as conn:
        stored = Deliveries(conn).get(facts.delivery_id)
    return replace(
        facts,
        recorded=stored is not None,
        client_addr=stored.delivery.client_addr if stored is not None else None,
    )
