"""Idempotency keys (``sql/idempotency_keys.sql``): each bound to the job it made, with the
fingerprint of the request it was made for (:mod:`receiver.submission.idempotency`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from receiver import clock
from receiver.store.database import Connection, Row

__all__ = ["IdempotencyKeys", "KeyBinding"]


@dataclass(frozen=True, kw_only=True)
class KeyBinding:
    """A stored key, with what became of its job."""

    key: str
    fingerprint: str
    job_id: str
    created_at: datetime
    #: The job's status; None once the job was deleted (or never recorded).
    job_status: str | None
    #: When the job was deleted, from the audit of deletions.
    job_deleted_at: datetime | None

    @classmethod
    def from_row(cls, row: Row) -> KeyBinding:
        deleted_at = row["job_deleted_at"]
        return cls(
            key=row["idempotency_key"],
            fingerprint=row["fingerprint"],
            job_id=row["job_id"],
            created_at=clock.from_db(row["created_at"]),
            job_status=row["job_status"],
            job_deleted_at=clock.from_db(deleted_at) if deleted_at is not None else None,
        )


class IdempotencyKeys:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, key: str) -> KeyBinding | None:
        row = self._conn.fetch_one("get_idempotency_key", key=key)
        return KeyBinding.from_row(row) if row is not None else None

    def claim(self, key: str, *, fingerprint: str, job_id: str, now: datetime) -> bool:
        """Bind ``key`` to ``job_id``; False when it was bound already (it is left so)."""
        return bool(
            self._conn.execute(
                "claim_idempotency_key",
                key=key,
                fingerprint=fingerprint,
                job_id=job_id,
                now=clock.to_db(now),
            )
        )

    def release(self, key: str, *, job_id: str) -> bool:
        """Unbind ``key`` if it is still ``job_id``'s; whether it was."""
        return bool(self._conn.execute("release_idempotency_key", key=key, job_id=job_id))
