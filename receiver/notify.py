"""Outbound notifications: each job's final event, POSTed to subscribers, signed.

Subscribers (``RECEIVER_NOTIFY_URLS``) receive JSON signed per the Standard Webhooks spec
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature``, with the ``standardwebhooks``
library and ``RECEIVER_NOTIFY_SECRET``).

It is a transactional outbox, in two durable steps, so a crash loses nothing:

1. every final event (:data:`receiver.events.FINAL_EVENTS`) is written to ``notify_outbox``
   in the transaction that appends it, whichever process appends it and whether or not
   notifications are configured;
2. a notifier (a worker process with notifications configured: :mod:`receiver.runtime`)
   turns each outbox entry into one notification row per subscriber, whose id is the
   ``webhook-id`` every retry repeats, then sends the due rows.

Several notifiers may share a PostgreSQL database: outbox entries are taken with
``SKIP LOCKED`` and notifications are claimed before they are sent, so each is sent by one
process (again, with the same id, only if that process dies mid-send). An outbox entry waits
for a notifier for up to :data:`RETRY_WINDOW` (a notifier that was down, or notifications
configured later, still send what is younger); older entries are dropped, logged and
counted. Failures are retried with exponential backoff and jitter (or the endpoint's
``Retry-After``) for up to 24 hours; a ``410 Gone`` disables the subscription. Endpoints go
through the same SSRF guard as video downloads.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog
from standardwebhooks.webhooks import Webhook

from receiver import clock, metrics, presenters
from receiver.config import Settings
from receiver.errors import FetchError
from receiver.guarded_http import FetchPolicy, check_url, guarded_client
from receiver.store.assets import Assets
from receiver.store.database import Connection, Database
from receiver.store.events import Events
from receiver.store.jobs import Jobs
from receiver.store.notifications import Notification, Notifications
from receiver.store.records import Event

__all__ = ["RETRY_WINDOW", "Notifier", "drop_stale"]

log = structlog.get_logger(__name__)

#: How long a notification is retried, and how long a final event waits for a notifier.
RETRY_WINDOW = timedelta(hours=24)
_MAX_BACKOFF = 3600.0
_BATCH = 10
_SEND_TIMEOUT = 10.0


@dataclass(frozen=True)
class _Attempt:
    state: str
    status: int | None
    error: str | None
    retry_after: float | None = None


class Notifier:
    def __init__(self, db: Database, settings: Settings, *, owner: str) -> None:
        self._db = db
        self._settings = settings
        self._owner = owner
        self._policy = FetchPolicy(allow_insecure=settings.insecure)
        self._http = guarded_client(self._policy, timeout=_SEND_TIMEOUT)
        self._webhook = Webhook(settings.notify_secret.reveal()) if settings.notify_secret else None
        self._synced = False

    @property
    def enabled(self) -> bool:
        return self._webhook is not None and bool(self._settings.notify_urls)

    def run_once(self) -> int:
        """Turn outbox entries into notifications, then send those due; how many sent."""
        if not self.enabled:
            return 0
        if not self._synced:
            with self._db.transaction() as conn:
                for url in self._settings.notify_urls:
                    Notifications(conn).subscribe(url, now=clock.now())
            self._synced = True
        drop_stale(self._db)
        while self._fan_out():
            pass
        return self._deliver_due()

    def close(self) -> None:
        self._http.close()

    # ── the outbox ──

    def _fan_out(self) -> bool:
        """One batch of outbox entries made into notifications; False when none was left."""
        now = clock.now()
        with self._db.transaction() as conn:
            notifications = Notifications(conn)
            entries = notifications.take_outbox(_BATCH)
            disabled = notifications.disabled_urls()
            urls = [url for url in self._settings.notify_urls if url not in disabled]
            for entry in entries:
                event = Events(conn).get(entry.event_seq)
                if event is None:  # its job was deleted meanwhile
                    notifications.remove_from_outbox(entry.event_seq)
                    continue
                payload = json.dumps(_payload(conn, event))
                for url in urls:
                    notifications.insert(
                        id=clock.new_id("msg"),
                        url=url,
                        event_seq=event.seq,
                        job_id=event.job_id,
                        type=event.type,
                        payload=payload,
                        now=now,
                    )
                notifications.remove_from_outbox(entry.event_seq)
        return len(entries) == _BATCH

    def _deliver_due(self) -> int:
        now = clock.now()
        with self._db.transaction() as conn:
            due = Notifications(conn).claim_due(
                owner=self._owner,
                claim_until=now + _claim_length(_BATCH),
                now=now,
                limit=_BATCH,
            )
        for notification in due:
            attempt = self._send(notification)
            self._record(notification, attempt)
        return len(due)

    def _send(self, notification: Notification) -> _Attempt:
        assert self._webhook is not None
        try:
            check_url(notification.url, self._policy)
        except FetchError as exc:
            return _Attempt("failed", None, exc.message)
        now = clock.now()
        headers = {
            "content-type": "application/json",
            "webhook-id": notification.id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._webhook.sign(notification.id, now, notification.payload),
        }
        try:
            response = self._http.post(
                notification.url, content=notification.payload, headers=headers
            )
        except FetchError as exc:
            # Refused by the address guard at connection time.
            return _Attempt("failed" if exc.permanent else "pending", None, exc.message)
        except httpx.HTTPError as exc:
            return _Attempt("pending", None, f"{type(exc).__name__}: {exc}")
        if response.is_success:
            return _Attempt("delivered", response.status_code, None)
        if response.status_code == 410:
            return _Attempt("disabled", 410, "the endpoint answered 410 Gone")
        return _Attempt(
            "pending",
            response.status_code,
            f"answered {response.status_code}",
            retry_after=_retry_after(response),
        )

    def _record(self, notification: Notification, attempt: _Attempt) -> None:
        now = clock.now()
        state = attempt.state
        delay = attempt.retry_after or _backoff(notification.attempts + 1)
        next_at = now + timedelta(seconds=delay)
        if state == "pending" and next_at > notification.created_at + RETRY_WINDOW:
            state = "failed"
        with self._db.transaction() as conn:
            notifications = Notifications(conn)
            notifications.record_attempt(
                notification.id,
                owner=self._owner,
                state=state,
                next_attempt_at=next_at,
                last_status=attempt.status,
                last_error=attempt.error,
                now=now,
            )
            if state == "disabled":
                notifications.disable(notification.url, reason=attempt.error, now=now)
        metrics.NOTIFICATIONS.labels(state).inc()
        log.info(
            "notify.attempt",
            notification=notification.id,
            job_id=notification.job_id,
            url=notification.url,
            state=state,
            status=attempt.status,
            error=attempt.error,
            attempt=notification.attempts + 1,
        )


def _payload(conn: Connection, event: Event) -> dict[str, Any]:
    job = Jobs(conn).get(event.job_id)
    # One notification per job, listing every stored file (``asset`` is the first).
    assets = Assets(conn).for_job(event.job_id)
    return {
        "type": event.type,
        "timestamp": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {
            "event_seq": event.seq,
            "job": presenters.job_json(job) if job is not None else {"id": event.job_id},
            "asset": presenters.asset_json(assets[0] if assets else None),
            **event.data,
            "assets": [presenters.asset_json(asset) for asset in assets],
        },
    }


def drop_stale(db: Database) -> int:
    """Drop outbox entries older than :data:`RETRY_WINDOW`, unsent; how many went.

    Run by the notifier and by the purge chore, so the outbox stays small where no process
    sends notifications.
    """
    with db.transaction() as conn:
        dropped = Notifications(conn).drop_stale_outbox(clock.now() - RETRY_WINDOW)
    if dropped:
        metrics.NOTIFICATIONS.labels("dropped").inc(dropped)
        log.warning("notify.outbox_dropped", events=dropped, older_than=str(RETRY_WINDOW))
    return dropped


def _claim_length(batch: int) -> timedelta:
    """Long enough to send a whole claimed batch, each send at its timeout, and then some."""
    return timedelta(seconds=batch * _SEND_TIMEOUT + 30)


def _backoff(attempt: int) -> float:
    """Exponential with full jitter: about 2 s, 4 s, 8 s ... capped at an hour."""
    base = min(_MAX_BACKOFF, 2.0**attempt)
    return base / 2 + random.random() * base / 2  # noqa: S311 - jitter, not cryptography


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - clock.now()).total_seconds())
    except (TypeError, ValueError):
        return None
