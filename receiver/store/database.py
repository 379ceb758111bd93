"""Connections and transactions: the only place that knows which database engine runs.

The repositories of this package (``jobs.py``, ``archive_tasks.py``, ...) speak in named
queries (``receiver/store/sql/*.sql``) and ``dict`` rows through :class:`Connection`, and
give the rest of the code typed records; this module runs them on either engine:

- SQLite (the default): one connection per thread; writes run in ``BEGIN IMMEDIATE``, which
  takes the write lock up front, so two writers never deadlock upgrading a read lock and a
  decision made from what the transaction read stays true until it commits.
- PostgreSQL (several replicas): a connection pool; READ COMMITTED, with every state change
  a compare-and-set and work claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from receiver.errors import ConfigError
from receiver.store.queries import Queries

__all__ = [
    "Connection",
    "Database",
    "Row",
    "is_database_error",
    "open_database",
    "require_database",
]

Row = dict[str, Any]


class _Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class _Executes(Protocol):
    def execute(self, sql: Any, params: Any = ..., /) -> Any: ...


class Connection:
    """One connection inside a transaction, executing named queries."""

    def __init__(self, raw: _Executes, queries: Queries) -> None:
        self._raw = raw
        self._queries = queries.by_name

    def execute(self, query: str, **params: Any) -> int:
        """Run ``query``; the number of rows it changed."""
        cursor: _Cursor = self._raw.execute(self._queries[query], params)
        return cursor.rowcount

    def fetch_one(self, query: str, **params: Any) -> Row | None:
        cursor: _Cursor = self._raw.execute(self._queries[query], params)
        row: Row | None = cursor.fetchone()
        return row

    def fetch_all(self, query: str, **params: Any) -> list[Row]:
        cursor: _Cursor = self._raw.execute(self._queries[query], params)
        return cursor.fetchall()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested unit: undone alone on error, the surrounding transaction goes on."""
        self._raw.execute("SAVEPOINT unit")
        try:
            yield
        except BaseException:
            self._raw.execute("ROLLBACK TO SAVEPOINT unit")
            self._raw.execute("RELEASE SAVEPOINT unit")
            raise
        self._raw.execute("RELEASE SAVEPOINT unit")

    def execute_script(self, sql: str) -> None:
        """Statements separated by ``;`` at line ends (migrations), inside this transaction."""
        for statement in split_statements(sql):
            self._raw.execute(statement)


class Database(Protocol):
    """What the rest of receiver needs from a database."""

    dialect: str
    queries: Queries

    def transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction: committed when the block ends, rolled back on error."""
        ...

    def reading(self) -> AbstractContextManager[Connection]:
        """A read-only transaction: every query in the block sees one consistent state."""
        ...

    def ping(self) -> None: ...

    def reclaim_space(self) -> None:
        """Return space freed by large deletes to the file system, without long locks."""
        ...

    def close(self) -> None: ...


def open_database(url: str) -> Database:
    """The database at ``url`` (``sqlite:///path`` or ``postgresql://...``), not yet migrated."""
    if url.startswith("sqlite:///"):
        from receiver.store.sqlite import SQLiteDatabase

        return SQLiteDatabase.from_url(url)
    if url.startswith(("postgresql://", "postgres://")):
        from receiver.store.postgres import PostgresDatabase

        return PostgresDatabase(url)
    scheme = url.split("://", maxsplit=1)[0]
    raise ConfigError("RECEIVER_DATABASE_URL", f"unsupported database URL scheme {scheme!r}")


def require_database(url: str) -> None:
    """Refuse to go on when ``url`` names a SQLite file that does not exist.

    For commands that only look at what is recorded: opening a missing file would create and
    migrate an empty database where nobody looks, and the command would then report nothing,
    as if nothing had happened. (A PostgreSQL database is never created by connecting.)
    """
    if url.startswith("sqlite:///"):
        from receiver.store.sqlite import require_file

        require_file(url)


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from the database driver (SQLite or PostgreSQL)."""
    import sqlite3

    if isinstance(exc, sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    return isinstance(exc, psycopg.Error)


def split_statements(sql: str) -> Iterator[str]:
    """Statements end with ``;`` at a line's end, except inside a ``$$``-quoted body (a
    PostgreSQL function's)."""
    statement: list[str] = []
    quoted = False
    for line in sql.splitlines():
        if not quoted and line.lstrip().startswith("--"):
            continue
        statement.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            text = "\n".join(statement).strip().rstrip(";")
            if text:
                yield text
            statement = []
    rest = "\n".join(statement).strip()
    if rest:
        yield rest
