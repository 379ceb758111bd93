"""The notification tables (``sql/notifications.sql``): the outbox, the notifications made
from it, and the subscriptions they go to.

The outbox is written in the transaction that appends a final event; the notifier
(:mod:`receiver.notify`) turns each entry into one notification per subscriber and sends
those. Taking entries and claiming notifications lock rows on PostgreSQL (``SKIP
LOCKED``), so several notifiers share the work without waiting on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from receiver import clock
from receiver.store.database import Connection, Row
from receiver.store.records import Stamp

__all__ = ["Notification", "Notifications", "OutboxEntry"]


@dataclass(frozen=True, kw_only=True)
class OutboxEntry:
    """A final event waiting to be made into notifications."""

    event_seq: int
    job_id: str
    type: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> OutboxEntry:
        return cls(
            event_seq=row["event_seq"],
            job_id=row["job_id"],
            type=row["type"],
            created_at=clock.from_db(row["created_at"]),
        )


@dataclass(frozen=True, kw_only=True)
class Notification:
    """One event for one subscriber; ``id`` is the ``webhook-id`` every retry repeats."""

    id: str
    url: str
    event_seq: int
    job_id: str
    type: str
    #: The JSON sent, fixed when the notification was made.
    payload: str
    #: pending | delivered | failed | disabled
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    #: The notifier that holds it while sending (None when nobody does).
    claimed_by: str | None

    @classmethod
    def from_row(cls, row: Row) -> Notification:
        return cls(
            id=row["id"],
            url=row["url"],
            event_seq=row["event_seq"],
            job_id=row["job_id"],
            type=row["type"],
            payload=row["payload"],
            state=row["state"],
            attempts=row["attempts"],
            next_attempt_at=clock.from_db(row["next_attempt_at"]),
            last_status=row["last_status"],
            last_error=row["last_error"],
            created_at=clock.from_db(row["created_at"]),
            updated_at=clock.from_db(row["updated_at"]),
            claimed_by=row["claimed_by"],
        )


class Notifications:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    # ── the outbox ──

    def add_to_outbox(self, *, event_seq: int, job_id: str, type: str, now: Stamp) -> None:
        """Put a final event in the outbox: call in the transaction that appends it (on the
        callback path: ``now`` comes formatted, as the event's own time)."""
        self._conn.execute("insert_outbox", seq=event_seq, job_id=job_id, type=type, now=now)

    def take_outbox(self, limit: int) -> list[OutboxEntry]:
        """The oldest entries, locked until the transaction ends (PostgreSQL)."""
        return [
            OutboxEntry.from_row(row) for row in self._conn.fetch_all("take_outbox", limit=limit)
        ]

    def remove_from_outbox(self, event_seq: int) -> None:
        self._conn.execute("delete_outbox", seq=event_seq)

    def drop_stale_outbox(self, before: datetime) -> int:
        """Forget the entries written before ``before``, unsent; how many went."""
        return self._conn.execute("drop_stale_outbox", before=clock.to_db(before))

    # ── subscriptions ──

    def subscribe(self, url: str, *, now: datetime) -> None:
        """Record ``url`` as a subscriber (a known one is left as it is, disabled or not)."""
        self._conn.execute("add_subscription", url=url, now=clock.to_db(now))

    def disabled_urls(self) -> set[str]:
        return {row["url"] for row in self._conn.fetch_all("disabled_subscriptions")}

    def disable(self, url: str, *, reason: str | None, now: datetime) -> None:
        self._conn.execute("disable_subscription", url=url, reason=reason, now=clock.to_db(now))

    # ── notifications ──

    def insert(
        self,
        *,
        id: str,
        url: str,
        event_seq: int,
        job_id: str,
        type: str,
        payload: str,
        now: datetime,
    ) -> bool:
        """A new pending notification, due now; False when ``url`` has one for that event."""
        return bool(
            self._conn.execute(
                "insert_notification",
                id=id,
                url=url,
                event_seq=event_seq,
                job_id=job_id,
                type=type,
                payload=payload,
                now=clock.to_db(now),
            )
        )

    def claim_due(
        self, *, owner: str, claim_until: datetime, now: datetime, limit: int
    ) -> list[Notification]:
        """Up to ``limit`` due notifications, held by ``owner`` until ``claim_until``."""
        rows = self._conn.fetch_all(
            "claim_notifications",
            owner=owner,
            claim_until=clock.to_db(claim_until),
            now=clock.to_db(now),
            limit=limit,
        )
        return [Notification.from_row(row) for row in rows]

    def record_attempt(
        self,
        notification_id: str,
        *,
        owner: str,
        state: str,
        next_attempt_at: datetime,
        last_status: int | None,
        last_error: str | None,
        now: datetime,
    ) -> bool:
        """One more attempt and its outcome, if ``owner`` still holds the notification."""
        return bool(
            self._conn.execute(
                "notification_attempted",
                id=notification_id,
                state=state,
                next_attempt_at=clock.to_db(next_attempt_at),
                last_status=last_status,
                last_error=last_error,
                now=clock.to_db(now),
                owner=owner,
            )
        )

    def newest(self, *, state: str | None, limit: int) -> list[Notification]:
        """Newest first, all of them or those in ``state``."""
        rows = self._conn.fetch_all("list_notifications", state=state, limit=limit)
        return [Notification.from_row(row) for row in rows]

    def resend(self, notification_id: str, *, now: datetime) -> bool:
        """Send again from the first attempt, due now; False when there is no such one."""
        return bool(
            self._conn.execute("resend_notification", id=notification_id, now=clock.to_db(now))
        )

    # ── a job's deletion ──

    def delete_for_job(self, job_id: str) -> None:
        """Forget a job's outbox entries and notifications (``receiver delete``)."""
        self._conn.execute("delete_job_outbox", job_id=job_id)
        self._conn.execute("delete_job_notifications", job_id=job_id)
