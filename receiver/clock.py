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

#: Crockford's base32 digits, lower case (ids are written in lower case).
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
#: Every 10-bit value as its two digits: an id is 13 lookups, not 26.
_DIGIT_PAIRS = tuple(high + low for high in _CROCKFORD for low in _CROCKFORD)
_ID_SHIFTS = tuple(range(120, -1, -10))


def now() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; use an aware UTC datetime")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # The text strftime("%Y-%m-%dT%H:%M:%S.%fZ") gives, at half its cost and three quarters
    # of isoformat's (several of these are written per callback).
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031 - the fastest way here
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
        moment.microsecond,
    )


def from_db(text: str) -> datetime:
    # fromisoformat (which reads the "Z" since Python 3.11) is several times cheaper than
    # strptime, and rows are read on every callback.
    return datetime.fromisoformat(text)


def new_id(prefix: str) -> str:
    """``prefix_`` + 48 bits of milliseconds + 80 random bits, base32: sortable by creation."""
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    # 26 characters of 5 bits are 130 bits, the top two always 0: written two at a time
    # (the base64 module's base32 is pure Python, and ids are made on every callback).
    pairs = _DIGIT_PAIRS
    return prefix + "_" + "".join([pairs[(value >> shift) & 1023] for shift in _ID_SHIFTS])
