"""Group commit: many small write transactions, one commit (one fsync) between them.

Every accepted callback must be on disk before its 2xx, and on SQLite each commit costs an
fsync under a database-wide write lock, so one commit per callback caps the intake far
below what the provider can send. Here one thread runs the units queued by request
handlers back to back inside a single transaction (should one fail, the batch is run again
with each unit in a savepoint of its own, so that only the failing one is undone), commits
once, and only then hands each handler its result.
No answer leaves before its unit is committed: the guarantee is unchanged, the fsync is
shared.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog

from receiver.store.database import Connection, Database

__all__ = ["GroupCommitter"]

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass
class _Unit:
    work: Callable[[Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    order: str


class GroupCommitter:
    name = "group_committer"

    def __init__(self, db: Database, *, max_batch: int = 128) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Unit | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._running = False

    def start(self) -> None:
        self._running = True
        self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Finish what is queued, then stop."""
        if self._thread is not None:
            self._running = False
            self._queue.put(None)
            self._thread.join()
            self._thread = None

    async def run(self, work: Callable[[Connection], T], *, order: str = "") -> T:
        """Run ``work`` in a committed transaction; its result once the commit is done.

        ``order`` (a job id) sorts the units of a batch, so that replicas sharing a
        PostgreSQL database take row locks in one order and cannot deadlock each other.
        """
        if not self._running:
            raise RuntimeError("the group committer is not running")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_Unit(work, future, loop, order))
        return await future

    def _run(self) -> None:
        try:
            self._serve()
        finally:
            # Whatever ended the thread, nobody may wait forever on work it will not do.
            self._running = False
            self._fail_pending()

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    unit = self._queue.get_nowait()
                except queue.Empty:
                    break
                if unit is None:
                    stopping = True
                    break
                batch.append(unit)
            batch.sort(key=lambda unit: unit.order)
            self._commit(batch)

    def _together(self, batch: list[_Unit]) -> list[tuple[_Unit, bool, Any]]:
        """The batch in one transaction; units that fail are set apart and tried alone.

        Units nearly always succeed, so they first run side by side with no savepoints
        (two statements per unit saved). If one fails, the whole transaction is rolled
        back and the batch runs again, each unit in a savepoint of its own, so that only
        the failing one is undone: a unit only writes to the database, so running it again
        after a rollback is as if it ran once.
        """
        try:
            with self._db.transaction() as conn:
                return [(unit, True, unit.work(conn)) for unit in batch]
        except Exception:
            log.info("group_commit.retrying_apart", size=len(batch))
        outcomes: list[tuple[_Unit, bool, Any]] = []
        with self._db.transaction() as conn:
            for unit in batch:
                try:
                    with conn.savepoint():
                        outcomes.append((unit, True, unit.work(conn)))
                except Exception as exc:
                    outcomes.append((unit, False, exc))
        return outcomes

    def _fail_pending(self) -> None:
        stopped = RuntimeError("the group committer stopped")
        while True:
            try:
                unit = self._queue.get_nowait()
            except queue.Empty:
                return
            if unit is not None:
                with contextlib.suppress(RuntimeError):  # a loop already closed
                    unit.loop.call_soon_threadsafe(_settle, [(unit, False, stopped)])

    def _commit(self, batch: list[_Unit]) -> None:
        outcomes: list[tuple[_Unit, bool, Any]] = []
        try:
            if len(batch) == 1:
                # Alone, the unit's failure rolls back the transaction it owns.
                with self._db.transaction() as conn:
                    outcomes = [(batch[0], True, batch[0].work(conn))]
            else:
                outcomes = self._together(batch)
        except Exception as exc:
            # The commit itself failed (or the lone unit did): nothing of the batch is on
            # disk, every caller must hear so (it answers 5xx and the provider retries).
            log.exception("group_commit.failed", size=len(batch))
            outcomes = [(unit, False, exc) for unit in batch]
        # One wake-up per event loop for the whole batch, not one per unit.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Unit, bool, Any]]] = {}
        for outcome in outcomes:
            by_loop.setdefault(outcome[0].loop, []).append(outcome)
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, settled)


def _settle(outcomes: list[tuple[_Unit, bool, Any]]) -> None:
    for unit, ok, value in outcomes:
        if unit.future.cancelled():
            continue
        if ok:
            unit.future.set_result(value)
        else:
            unit.future.set_exception(value)
