"""The delivery log (``sql/deliveries.sql``): every request to a callback route, and what came
of it, kept whole (headers and body, for replays) or, for junk, as a small summary."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from receiver import clock
from receiver.lifecycle import DeliveryOutcome
from receiver.store.database import Connection
from receiver.store.records import Delivery, Stamp

__all__ = ["Deliveries", "StoredDelivery"]


@dataclass(frozen=True, kw_only=True)
class StoredDelivery:
    """One delivery as it was kept: its log line, the headers (secrets redacted on arrival)
    and the body bytes (capped: ``body_complete`` says whether all of it was kept)."""

    delivery: Delivery
    headers: dict[str, Any]
    body: bytes

    @property
    def body_complete(self) -> bool:
        return len(self.body) >= self.delivery.body_size


def _db_time(moment: datetime | None) -> str | None:
    return clock.to_db(moment) if moment is not None else None


class Deliveries:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(
        self,
        delivery_id: str,
        *,
        provider: str,
        source: str,
        job_id: str | None,
        task_id: str | None,
        provider_status: str | None,
        outcome: DeliveryOutcome,
        reason: str | None,
        client_addr: str | None,
        headers: str,
        body: bytes | None,
        body_size: int,
        received_at: Stamp,
    ) -> None:
        """Log a delivery; ``headers`` is their JSON text (encoded by the caller, which
        knows what to redact), ``received_at`` its time as stored (see Stamp)."""
        self._conn.execute(
            "insert_delivery",
            id=delivery_id,
            provider=provider,
            source=source,
            job_id=job_id,
            task_id=task_id,
            provider_status=provider_status,
            outcome=outcome,
            reason=reason,
            client_addr=client_addr,
            headers=headers,
            body=body,
            body_size=body_size,
            received_at=received_at,
        )

    def get(self, delivery_id: str) -> StoredDelivery | None:
        row = self._conn.fetch_one("get_delivery", id=delivery_id)
        if row is None:
            return None
        return StoredDelivery(
            delivery=Delivery.from_row(row),
            headers=json.loads(row["headers"]),
            body=bytes(row["body"] or b""),
        )

    def newest(
        self,
        *,
        job_id: str | None = None,
        outcome: DeliveryOutcome | None = None,
        task_id: str | None = None,
        since: datetime | None = None,
        limit: int,
    ) -> list[Delivery]:
        """Newest first, every filter optional."""
        rows = self._conn.fetch_all(
            "list_deliveries",
            job_id=job_id,
            outcome=outcome,
            task_id=task_id,
            since=_db_time(since),
            limit=limit,
        )
        return [Delivery.from_row(row) for row in rows]

    def for_job(self, job_id: str) -> list[Delivery]:
        """The job's deliveries, oldest first."""
        rows = self._conn.fetch_all("list_job_deliveries", job_id=job_id)
        return [Delivery.from_row(row) for row in rows]

    def failed(
        self,
        *,
        job_id: str | None = None,
        since: datetime | None = None,
        after: Delivery | None = None,
        limit: int,
    ) -> list[Delivery]:
        """What ``receiver replay --failed`` re-runs, oldest first, the page that follows
        delivery ``after`` (keyset-paged by time and id)."""
        rows = self._conn.fetch_all(
            "failed_deliveries",
            job_id=job_id,
            since=_db_time(since),
            after_at=clock.to_db(after.received_at) if after is not None else "",
            after_id=after.id if after is not None else "",
            limit=limit,
        )
        return [Delivery.from_row(row) for row in rows]

    def suspicious_rejections(self, *, since: datetime, limit: int) -> list[Delivery]:
        """Rejected callbacks that name one of our jobs or tasks, newest first."""
        rows = self._conn.fetch_all("suspicious_rejections", since=clock.to_db(since), limit=limit)
        return [Delivery.from_row(row) for row in rows]

    def rejected_kept_from(self, keep: int) -> datetime | None:
        """When the newest ``keep`` rejected deliveries begin (None: there are no more)."""
        row = self._conn.fetch_one("rejected_kept_from", keep=keep)
        return clock.from_db(row["received_at"]) if row is not None else None

    def purge_rejected(self, *, before: datetime, limit: int) -> int:
        """Forget up to ``limit`` rejected deliveries received before ``before``; how many."""
        return self._conn.execute(
            "purge_rejected_deliveries", before=clock.to_db(before), limit=limit
        )

    def delete_for_job(self, job_id: str) -> int:
        return self._conn.execute("delete_job_deliveries", job_id=job_id)
