"""Stored files as read and forgotten (``sql/assets.sql``), one per stored result of a job:
the archive worker writes them."""

from __future__ import annotations

from datetime import datetime

from receiver import clock
from receiver.store.database import Connection
from receiver.store.records import Asset

__all__ = ["Assets"]


class Assets:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def for_job(self, job_id: str) -> list[Asset]:
        """The job's stored files, in the order of its task's results."""
        return [Asset.from_row(row) for row in self._conn.fetch_all("list_assets", job_id=job_id)]

    def get(self, job_id: str) -> Asset | None:
        """The job's first stored file (its only one, for most jobs)."""
        assets = self.for_job(job_id)
        return assets[0] if assets else None

    def stored_before(self, before: datetime, *, limit: int) -> list[str]:
        """The jobs whose first file was stored before ``before``, the oldest first."""
        rows = self._conn.fetch_all("stored_videos_before", before=clock.to_db(before), limit=limit)
        return [str(row["job_id"]) for row in rows]

    def delete_for_job(self, job_id: str) -> int:
        return self._conn.execute("delete_job_asset", job_id=job_id)
