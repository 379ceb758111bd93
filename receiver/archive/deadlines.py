"""When a provider's video link dies, and the early warning for archives running out of time.

A link lives 24 hours after generation unless the URL itself says otherwise: presigned URLs
carry their own expiry (S3 and GCS SigV4, SigV2-style ``Expires``, Azure SAS ``se``), and
that one is the truth.

A video that is not stored when its link expires is lost for good (and paid for). Retries
back off for as long as the deadline allows, so an archive that keeps failing, or a queue
that is too long, shows up here first: every unfinished archive whose remaining margin falls
below ``RECEIVER_DEADLINE_WARNING`` is logged and counted, once per job (the mark is set by
a compare-and-set, so several workers never warn twice about one job).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

import structlog

from receiver import clock, metrics
from receiver.store.database import Database

__all__ = ["LINK_LIFETIME", "link_deadline", "warn_near_deadlines"]

log = structlog.get_logger(__name__)

#: How long the provider's video links live after generation, as documented.
LINK_LIFETIME = timedelta(hours=24)


def link_deadline(url: str, generated_at: datetime) -> datetime:
    """When ``url`` stops working: its own expiry if it carries an earlier one, else 24 h
    after generation.

    A later expiry in the URL is not believed: the provider documents 24 h, and a URL is
    text anyone can write (a forged week-long expiry would let a slow source, or a queue
    of them, hold the archive threads for days).
    """
    documented = generated_at + LINK_LIFETIME
    expires = url_expiry(url)
    if expires is not None and generated_at - LINK_LIFETIME < expires < documented:
        return expires
    return documented


def url_expiry(url: str) -> datetime | None:
    """The expiry a presigned URL states in its query string, if any we know how to read."""
    query = _query(url)
    try:
        for date_key, lifetime_key in (
            ("x-amz-date", "x-amz-expires"),
            ("x-goog-date", "x-goog-expires"),
            ("x-oss-date", "x-oss-expires"),
        ):
            if date_key in query and lifetime_key in query:
                signed = datetime.strptime(query[date_key], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                return signed + timedelta(seconds=int(query[lifetime_key]))
        if "expires" in query:
            return datetime.fromtimestamp(int(query["expires"]), UTC)
        if "se" in query and "sig" in query:  # Azure SAS
            return datetime.fromisoformat(query["se"].replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return None


def warn_near_deadlines(db: Database, threshold: float) -> int:
    """Warn about each unfinished archive with less than ``threshold`` seconds left."""
    now = clock.now()
    with db.reading() as conn:
        rows = conn.fetch_all(
            "archives_near_deadline", horizon=clock.to_db(now + timedelta(seconds=threshold))
        )
    warned = 0
    for row in rows:
        with db.transaction() as conn:
            if not conn.execute("mark_deadline_warned", job_id=row["job_id"], now=clock.to_db(now)):
                continue  # another worker warned first
        margin = (clock.from_db(row["deadline_at"]) - now).total_seconds()
        metrics.DEADLINE_WARNINGS.inc()
        log.warning(
            "archive.deadline_near",
            job_id=row["job_id"],
            margin_seconds=round(margin),
            deadline_at=row["deadline_at"],
            state=row["state"],
            attempts=row["attempts"],
            last_error=row["last_error"],
        )
        warned += 1
    return warned


def _query(url: str) -> dict[str, str]:
    """The URL's query parameters, names lower-cased; most links have none (the fast path:
    this runs for every completed callback)."""
    if "?" not in url:
        return {}
    try:
        return {key.lower(): value for key, value in parse_qsl(urlsplit(url).query)}
    except ValueError:
        return {}
