"""Periodic chores of a worker process, each on its own schedule, in one background thread.

- the watchdog (every ``RECEIVER_WATCHDOG_INTERVAL``): jobs whose callback is overdue are
  asked about and recovered through the task API;
- outbound notifications (every second): each job's final event, signed, to subscribers;
- warning about archives whose link expires within ``RECEIVER_DEADLINE_WARNING`` (every
  minute), once per job;
- purging rejected deliveries older than ``RECEIVER_REJECTED_RETENTION`` (every 10 minutes),
  so junk sent to the callback routes cannot grow the delivery log without bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

from receiver.archive.deadlines import warn_near_deadlines
from receiver.config import Settings
from receiver.deliveries import purge_rejected
from receiver.providers.base import Provider
from receiver.store.database import Database
from receiver.watchdog import Watchdog

__all__ = ["Chore", "Housekeeper"]

log = structlog.get_logger(__name__)


@dataclass
class Chore:
    name: str
    interval: float
    run: Callable[[], object]
    due: float = 0.0


class Housekeeper:
    def __init__(self, chores: list[Chore]) -> None:
        self.chores = chores
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_worker(
        cls, db: Database, settings: Settings, provider_for: Callable[[str], Provider]
    ) -> Housekeeper:
        watchdog = Watchdog(db, settings, provider_for)
        return cls(
            [
                Chore("watchdog", settings.watchdog_interval, watchdog.run_once),
                Chore(
                    "purge_rejected", 600.0, lambda: purge_rejected(db, settings.rejected_retention)
                ),
                Chore(
                    "deadline_warning",
                    60.0,
                    lambda: warn_near_deadlines(db, settings.deadline_warning),
                ),
            ]
        )

    def run_due(self) -> None:
        """Run every chore whose time has come (each failure logged, never fatal)."""
        now = time.monotonic()
        for chore in self.chores:
            if now < chore.due:
                continue
            chore.due = now + chore.interval
            try:
                chore.run()
            except Exception:
                log.exception("housekeeping.failed", chore=chore.name)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="housekeeping", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.run_due()
            next_due = min(chore.due for chore in self.chores)
            self._stopping.wait(max(0.1, next_due - time.monotonic()))
