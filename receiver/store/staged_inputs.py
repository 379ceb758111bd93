"""Staged first frames by their last use (``sql/staged_inputs.sql``): a frame shared by many
jobs is kept until the last of them no longer needs it (see :mod:`receiver.retention`)."""

from __future__ import annotations

from datetime import datetime

from receiver import clock
from receiver.store.database import Connection

__all__ = ["StagedInputs"]


class StagedInputs:
    __slots__ = ("_conn",)

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def touch(self, key: str, *, now: datetime) -> None:
        """The frame at object ``key`` is used (again) by a job submitted ``now``."""
        self._conn.execute("touch_staged_input", key=key, now=clock.to_db(now))

    def last_used(self, key: str) -> datetime | None:
        row = self._conn.fetch_one("get_staged_input", key=key)
        return clock.from_db(row["last_used_at"]) if row is not None else None

    def forget(self, key: str, *, before: datetime) -> bool:
        """Forget the frame, unless it was used again since ``before``."""
        return bool(self._conn.execute("forget_staged_input", key=key, before=clock.to_db(before)))
