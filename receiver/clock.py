"""Time and identifiers, in the one representation the database stores.

Timestamps are UTC and stored as fixed-width ISO 8601 text (``2026-11-25T15:41:12.000000Z``),
which sorts and compares correctly as plain text on SQLite and PostgreSQL alike.
Identifiers are a prefix plus 26 Crockford base32 characters, time-ordered like a ULID, so
"newest first" and cursor pagination can order by id.
"""

from __future__ import annotations

import base64
import secrets
import time
from datetime import UTC, datetime

__all__ = ["from_db", "new_id", "now", "to_db"]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: RFC 4648 base32 digits to Crockford's, lower case (ids are written in lower case).
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.lower().encode())


def now() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; use an aware UTC datetime")
    # The text strftime("%Y-%m-%dT%H:%M:%S.%fZ") gives, at a fraction of its cost (several
    # of these are written per callback).
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return f"{naive.isoformat(timespec='microseconds')}Z"


def from_db(text: str) -> datetime:
    # fromisoformat (which reads the "Z" since Python 3.11) is several times cheaper than
    # strptime, and rows are read on every callback.
    return datetime.fromisoformat(text)


def new_id(prefix: str) -> str:
    """``prefix_`` + 48 bits of milliseconds + 80 random bits, base32: sortable by creation."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    # 26 characters of 5 bits are 130 bits: the 128-bit value shifted into 17 bytes so that
    # base32's groups, taken from the top, fall on the same bits as the characters do.
    text = base64.b32encode((value << 6).to_bytes(17, "big"))[:26]
    return f"{prefix}_{text.translate(_TO_CROCKFORD).decode('ascii')}"
