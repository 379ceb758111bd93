"""Time and identifiers, in the one representation the database stores.

Timestamps are UTC and stored as fixed-width ISO 8601 text (``2026-11-25T15:41:12.000000Z``),
which sorts and compares correctly as plain text on SQLite and PostgreSQL alike.
Identifiers are a prefix plus 26 Crockford base32 characters, time-ordered like a ULID, so
"newest first" and cursor pagination can order by id.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime

__all__ = ["from_db", "new_id", "now", "to_db"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def now() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; use an aware UTC datetime")
    return moment.astimezone(UTC).strftime(_FORMAT)


def from_db(text: str) -> datetime:
    # fromisoformat (which reads the "Z" since Python 3.11) is several times cheaper than
    # strptime, and rows are read on every callback.
    return datetime.fromisoformat(text)


def new_id(prefix: str) -> str:
    """``prefix_`` + 48 bits of milliseconds + 80 random bits, base32: sortable by creation."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars)).lower()}"
