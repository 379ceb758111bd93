"""Periodic chores of a worker process, run in one background thread.

For now: forgetting rejected deliveries older than ``RECEIVER_REJECTED_RETENTION``, so junk
sent to the callback routes cannot grow the delivery log without bound.
"""

from __future__ import annotations

import threading

import structlog

from receiver.config import Settings
from receiver.deliveries import purge_rejected
from receiver.store.database import Database

__all__ = ["Housekeeper"]

log = structlog.get_logger(__name__)


class Housekeeper:
    def __init__(self, db: Database, settings: Settings, *, interval: float = 600.0) -> None:
        self._db = db
        self._settings = settings
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        purged = purge_rejected(self._db, self._settings.rejected_retention)
        if purged:
            log.info("housekeeping.purged_rejected_deliveries", count=purged)
        return purged

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("housekeeping.failed")
            self._stopping.wait(self._interval)
