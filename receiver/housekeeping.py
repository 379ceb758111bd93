"""Periodic chores, each on its own schedule, in one background thread.

Which chores a process runs is decided in :mod:`receiver.runtime`; this module only runs
them: every failure is logged and never fatal, and a chore whose time has come runs once
even if it is late.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog

__all__ = ["Chore", "Housekeeper"]

log = structlog.get_logger(__name__)


@dataclass
class Chore:
    name: str
    interval: float
    run: Callable[[], object]
    due: float = 0.0


class Housekeeper:
    """A thread that runs ``chores``; ``on_stop`` releases what they hold, once stopped."""

    def __init__(
        self, name: str, chores: list[Chore], *, on_stop: Callable[[], object] | None = None
    ) -> None:
        self.name = name
        self.chores = chores
        self._on_stop = on_stop
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

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
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._on_stop is not None:
            self._on_stop()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.run_due()
            next_due = min(chore.due for chore in self.chores)
            self._stopping.wait(max(0.1, next_due - time.monotonic()))
