"""The event log (``sql/events.sql``): every change of a job, in order (``seq``).

Events are written by :func:`receiver.events.append`, in the transaction of the change they
describe; this is only their table.
"""

from __future__ import annotations

from receiver.store.database import Connection
from receiver.store.records import Event, Stamp

__all__ = ["Events"]


class Events:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, job_id: str, type: str, *, data: str, now: Stamp) -> None:
        """Append an event; ``data`` is its JSON text, ``now`` its time as stored."""
        self._conn.execute("insert_event", job_id=job_id, type=type, data=data, now=now)

    def insert_numbered(self, job_id: str, type: str, *, data: str, now: Stamp) -> int:
        """:meth:`insert`, answering the event's sequence number (for the outbox)."""
        row = self._conn.fetch_one(
            "insert_final_event", job_id=job_id, type=type, data=data, now=now
        )
        assert row is not None  # INSERT ... RETURNING
        return int(row["seq"])

    def get(self, seq: int) -> Event | None:
        row = self._conn.fetch_one("get_event", seq=seq)
        return Event.from_row(row) if row is not None else None

    def for_job(self, job_id: str) -> list[Event]:
        """The job's events, oldest first."""
        return [
            Event.from_row(row) for row in self._conn.fetch_all("list_job_events", job_id=job_id)
        ]

    def after(self, seq: int, *, job_id: str | None = None, limit: int) -> list[Event]:
        """Events numbered above ``seq`` (optionally one job's), oldest first."""
        rows = self._conn.fetch_all("events_after", after=seq, job_id=job_id, limit=limit)
        return [Event.from_row(row) for row in rows]

    def latest_seq(self) -> int:
        """The newest event's number (0 before the first)."""
        row = self._conn.fetch_one("latest_event_seq")
        return int(row["seq"] or 0) if row is not None else 0

    def delete_for_job(self, job_id: str) -> int:
        return self._conn.execute("delete_job_events", job_id=job_id)
