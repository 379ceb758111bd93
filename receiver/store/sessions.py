"""The gallery's sessions (``sql/sessions.sql``), by id: a keyed hash of the cookie, never
the cookie itself (:mod:`receiver.web.sessions`)."""

from __future__ import annotations

from datetime import datetime

from receiver import clock
from receiver.store.database import Connection

__all__ = ["Sessions"]


class Sessions:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, session_id: str, *, created_at: datetime, expires_at: datetime) -> None:
        self._conn.execute(
            "insert_session",
            id=session_id,
            created_at=clock.to_db(created_at),
            expires_at=clock.to_db(expires_at),
        )

    def live_until(self, session_id: str, *, now: datetime) -> datetime | None:
        """When the session expires, or None when there is none alive at ``now``."""
        row = self._conn.fetch_one("live_session", id=session_id, now=clock.to_db(now))
        return clock.from_db(row["expires_at"]) if row is not None else None

    def delete(self, session_id: str) -> None:
        self._conn.execute("delete_session", id=session_id)

    def delete_expired(self, *, now: datetime) -> int:
        """Forget the sessions expired at ``now``; how many went."""
        return self._conn.execute("delete_expired_sessions", now=clock.to_db(now))
