"""The event log: every change of a job, appended in the same transaction as the change.

Event types are stable names (``job.submitted``, ``job.processing``, ``job.completed``,
``job.failed``, ``job.cancelled``, ``job.attention``, ``result.stored`` (one result of
several), ``asset.stored`` (every result of the job), ``job.expired``);
because they are written with the change they describe, a reader of the log never sees a
change without its event or an event without its change.
"""

from __future__ import annotations

import json
from typing import Any

from receiver import clock
from receiver.store.database import Connection
from receiver.store.events import Events
from receiver.store.notifications import Notifications
from receiver.store.records import Event

__all__ = ["FINAL_EVENTS", "after", "append", "for_job"]

#: The events that end a job: each is also written to the notification outbox
#: (``notify_outbox``) in its own transaction, for :mod:`receiver.notify` to send.
FINAL_EVENTS = frozenset(
    {"asset.stored", "job.failed", "job.cancelled", "job.expired", "job.submit_failed"}
)

# Built once: json.dumps with any option builds a new encoder per call, and events are
# appended on every accepted callback.
_ENCODER = json.JSONEncoder(separators=(",", ":"), default=str)


def append(conn: Connection, job_id: str, type: str, *, at: str | None = None, **data: Any) -> None:
    """Append an event; ``at``: its time as stored, when the caller has it at hand."""
    now = at or clock.to_db(clock.now())
    if type not in FINAL_EVENTS:
        Events(conn).insert(job_id, type, data=_ENCODER.encode(data), now=now)
        return
    seq = Events(conn).insert_numbered(job_id, type, data=_ENCODER.encode(data), now=now)
    Notifications(conn).add_to_outbox(event_seq=seq, job_id=job_id, type=type, now=now)


def for_job(conn: Connection, job_id: str) -> list[Event]:
    return Events(conn).for_job(job_id)


def after(
    conn: Connection, seq: int, *, job_id: str | None = None, limit: int = 200
) -> list[Event]:
    """Events with a sequence number above ``seq``, oldest first."""
    return Events(conn).after(seq, job_id=job_id, limit=limit)
