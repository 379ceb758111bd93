"""Archive wake-ups on PostgreSQL: LISTEN for work the moment another process commits it.

A callback taken by one ``receiver serve --no-worker`` enqueues an archive task that a
``receiver worker`` elsewhere must claim. Polling alone makes that wait up to the worker's
idle tick (a second); the trigger of migration 0014 sends ``NOTIFY receiver_archive`` at the
commit of every task that becomes ready, and this listener wakes the worker's threads on it.
Polling stays the safety net: a notification sent while this connection was down is simply
found by the next poll. (SQLite needs none of this: its one process wakes its own worker.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import structlog

__all__ = ["CHANNEL", "ArchiveWakeups"]

log = structlog.get_logger(__name__)

CHANNEL = "receiver_archive"
#: How often the listener looks up from waiting, to see whether it should stop.
_TICK = 1.0
#: Pause before reconnecting after the connection failed.
_RETRY = 2.0


class ArchiveWakeups:
    """A thread holding one connection that LISTENs, calling ``wake`` on every notification."""

    name = "archive_wakeups"

    def __init__(self, database_url: str, wake: Callable[[], None]) -> None:
        self._url = database_url
        self._wake = wake
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        #: Set once the first LISTEN is in place (tests wait for it).
        self.listening = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(_TICK + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except psycopg.Error as exc:
                log.warning("archive.wakeups_down", error=str(exc), retry_in=_RETRY)
                self._stopping.wait(_RETRY)

    def _listen(self) -> None:
        with psycopg.connect(self._url, autocommit=True) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            self.listening.set()
            # Work committed while we were not listening is found by the worker's poll; wake
            # it once now so that it does not wait for its next tick.
            self._wake()
            while not self._stopping.is_set():
                for _ in conn.notifies(timeout=_TICK):
                    self._wake()
