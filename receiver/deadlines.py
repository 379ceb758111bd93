"""When a provider's video link dies: pure arithmetic on the URL and its generation time.

A link lives 24 hours after generation unless the URL itself says otherwise: presigned URLs
carry their own expiry (S3 and GCS SigV4, SigV2-style ``Expires``, Azure SAS ``se``), and
that one is the truth. The intake sets each archive's deadline with it; the archiver's
warning before a deadline is :mod:`receiver.archive.deadlines`.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, urlsplit

__all__ = ["LINK_LIFETIME", "link_deadline", "link_lifetime_for", "url_expiry"]

#: How long the provider's links live after generation, as documented for most models.
LINK_LIFETIME = timedelta(hours=24)

#: The models documented with another lifetime (shared/reference/evolink-catalogue.md §3.3:
#: Suno's audio 72 h, Midjourney v8.1's images 30 days), by model id prefix: for a model the
#: catalogue's table does not name (an unknown model sent with --allow-unknown-model).
_DOCUMENTED_LIFETIMES: tuple[tuple[str, timedelta], ...] = (
    ("suno-", timedelta(hours=72)),
    ("mj-v8.1", timedelta(days=30)),
)


# Cached: read on every completed callback. Bounded, since the model comes from the body.
@functools.lru_cache(maxsize=256)
def link_lifetime_for(model: str | None) -> timedelta:
    """How long ``model``'s result links live after generation: its entry's in EvoLink's
    catalogue, else the documented exception that names it, else 24 h."""
    # Read here, not at import: the callback path loads this module, the table rarely.
    from receiver.providers.evolink_catalogue import CATALOGUE

    entry = CATALOGUE.get(model) if model is not None else None
    if entry is not None:
        return entry.link_lifetime
    for prefix, lifetime in _DOCUMENTED_LIFETIMES:
        if model is not None and model.startswith(prefix):
            return lifetime
    return LINK_LIFETIME


def link_deadline(
    url: str, generated_at: datetime, lifetime: timedelta = LINK_LIFETIME
) -> datetime:
    """When ``url`` stops working: its own expiry if it carries an earlier one, else
    ``lifetime`` (24 h unless the task or its model says otherwise) after generation.

    A later expiry in the URL is not believed: the provider documents the lifetime, and a
    URL is text anyone can write (a forged week-long expiry would let a slow source, or a
    queue of them, hold the archive threads for days).
    """
    documented = generated_at + lifetime
    expires = url_expiry(url)
    if expires is not None and generated_at - lifetime < expires < documented:
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


def _query(url: str) -> dict[str, str]:
    """The URL's query parameters, names lower-cased; most links have none (the fast path:
    this runs for every completed callback)."""
    if "?" not in url:
        return {}
    try:
        return {key.lower(): value for key, value in parse_qsl(urlsplit(url).query)}
    except ValueError:
        return {}
