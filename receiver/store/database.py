"""Connections and transactions: the only place that knows which database engine runs.

Everything above this module speaks in named queries (``receiver/store/sql/queries.sql``)
and plain ``dict`` rows. Writes run in ``transaction()``; on SQLite that is
``BEGIN IMMEDIATE``, which takes the write lock up front so that two writers never
deadlock upgrading a read lock, and decisions made from what the transaction read stay true
until it commits.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from receiver.errors import ConfigError
from receiver.store.queries import Queries

__all__ = ["Connection", "Database", "Row"]

Row = dict[str, Any]


class Connection:
    """One connection inside a transaction, executing named queries."""

    def __init__(self, raw: sqlite3.Connection, queries: Queries) -> None:
        self._raw = raw
        self._queries = queries

    def execute(self, query: str, **params: Any) -> int:
        """Run ``query``; the number of rows it changed."""
        return self._raw.execute(self._queries[query], params).rowcount

    def fetch_one(self, query: str, **params: Any) -> Row | None:
        row: Row | None = self._raw.execute(self._queries[query], params).fetchone()
        return row

    def fetch_all(self, query: str, **params: Any) -> list[Row]:
        rows: list[Row] = self._raw.execute(self._queries[query], params).fetchall()
        return rows

    def execute_script(self, sql: str) -> None:
        """Statements separated by ``;`` at line ends (migrations), inside this transaction."""
        for statement in _split_statements(sql):
            self._raw.execute(statement)


class Database:
    """A SQLite database file, with one connection per thread."""

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.queries = Queries(self.dialect)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []

    @classmethod
    def open(cls, url: str) -> Database:
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls(path)
        scheme = url.split("://", maxsplit=1)[0]
        raise ConfigError("RECEIVER_DATABASE_URL", f"unsupported database URL scheme {scheme!r}")

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
        """A write transaction: committed when the block ends, rolled back on error."""
        raw = self._connection()
        raw.execute("BEGIN IMMEDIATE")
        try:
            yield Connection(raw, self.queries)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only snapshot: every query in the block sees the same state."""
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


def _split_statements(sql: str) -> Iterator[str]:
    statement: list[str] = []
    for line in sql.splitlines():
        if line.lstrip().startswith("--"):
            continue
        statement.append(line)
        if line.rstrip().endswith(";"):
            text = "\n".join(statement).strip().rstrip(";")
            if text:
                yield text
            statement = []
    rest = "\n".join(statement).strip()
    if rest:
        yield rest
