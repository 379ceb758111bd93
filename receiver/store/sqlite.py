"""SQLite: the default store, one file, one connection per thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from receiver.store.database import Connection, Row
from receiver.store.queries import Queries

__all__ = ["SQLiteDatabase"]


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries = Queries(self.dialect)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    @classmethod
    def from_url(cls, url: str) -> SQLiteDatabase:
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path)

    def _connection(self) -> sqlite3.Connection:
        raw: sqlite3.Connection | None = getattr(self._local, "raw", None)
        if raw is None:
            # Autocommit mode: we issue BEGIN ourselves, so sqlite3 never opens a
            # transaction behind our back.
            raw = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
            raw.row_factory = _dict_row
            raw.execute("PRAGMA journal_mode = WAL")
            # FULL: a callback is acknowledged only after its delivery is on disk.
            raw.execute("PRAGMA synchronous = FULL")
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA busy_timeout = 30000")
            self._local.raw = raw
            with self._lock:
                self._all.append(raw)
        return raw

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        raw = self._connection()
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield Connection(raw, self.queries)
            raw.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself failed: never leave this thread's connection mid-transaction.
            if raw.in_transaction:
                raw.execute("ROLLBACK")
            raise

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        raw = self._connection()
        raw.execute("BEGIN")
        try:
            yield Connection(raw, self.queries)
        finally:
            raw.execute("ROLLBACK")

    def ping(self) -> None:
        self._connection().execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            for raw in self._all:
                raw.close()
            self._all.clear()
        self._local = threading.local()


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}
