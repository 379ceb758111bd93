"""The record of applied schema migrations (``sql/migrations.sql``), for
:mod:`receiver.store.migrate`."""

from __future__ import annotations

from datetime import datetime

from receiver import clock
from receiver.store.database import Connection

__all__ = ["Migrations"]


class Migrations:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock(self) -> None:
        """Wait for any other migrating process, until this transaction ends."""
        self._conn.fetch_one("lock_migrations")

    def applied_versions(self) -> set[int]:
        return {int(row["version"]) for row in self._conn.fetch_all("applied_migrations")}

    def record(self, version: int, name: str, *, applied_at: datetime) -> None:
        self._conn.execute(
            "record_migration", version=version, name=name, applied_at=clock.to_db(applied_at)
        )
