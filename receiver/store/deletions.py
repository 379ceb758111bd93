"""The audit of deleted jobs (``sql/deletions.sql``): what each was, what it cost, who
deleted it and why. It outlives the job's own rows, events included."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Self

from receiver import clock
from receiver.store.database import Connection, Row

__all__ = ["Deletion", "Deletions"]


@dataclass(frozen=True, kw_only=True)
class Deletion:
    job_id: str
    provider: str
    task_id: str | None
    model: str
    #: The job's status when it was deleted.
    status: str
    #: Reserved, else estimated (None: unpriced); it keeps counting against the day's budget.
    credits: float | None
    job_created_at: datetime
    #: The video that was deleted, if any.
    object_uri: str | None
    size_bytes: int | None
    sha256: str | None
    #: ``user@host``, or ``retention (…)``.
    deleted_by: str
    reason: str | None
    deleted_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(
            job_id=row["job_id"],
            provider=row["provider"],
            task_id=row["task_id"],
            model=row["model"],
            status=row["status"],
            credits=row["credits"],
            job_created_at=clock.from_db(row["job_created_at"]),
            object_uri=row["object_uri"],
            size_bytes=row["size_bytes"],
            sha256=row["sha256"],
            deleted_by=row["deleted_by"],
            reason=row["reason"],
            deleted_at=clock.from_db(row["deleted_at"]),
        )


class Deletions:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, deletion: Deletion) -> None:
        self._conn.execute(
            "insert_deletion",
            job_id=deletion.job_id,
            provider=deletion.provider,
            task_id=deletion.task_id,
            model=deletion.model,
            status=deletion.status,
            credits=deletion.credits,
            job_created_at=clock.to_db(deletion.job_created_at),
            object_uri=deletion.object_uri,
            size_bytes=deletion.size_bytes,
            sha256=deletion.sha256,
            deleted_by=deletion.deleted_by,
            reason=deletion.reason,
            now=clock.to_db(deletion.deleted_at),
        )

    def get(self, job_id: str) -> Deletion | None:
        row = self._conn.fetch_one("get_deletion", job_id=job_id)
        return Deletion.from_row(row) if row is not None else None

    def newest(self, *, limit: int) -> list[Deletion]:
        return [
            Deletion.from_row(row) for row in self._conn.fetch_all("list_deletions", limit=limit)
        ]
