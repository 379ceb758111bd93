"""SQLite: the default store, one file, one connection per thread."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

from receiver.errors import ConfigError
from receiver.store.database import Connection, Row
from receiver.store.queries import Queries

__all__ = ["SQLiteDatabase", "path_of", "require_file"]

log = structlog.get_logger(__name__)


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
        path = path_of(url)
        _check_directory(path)
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
            # Before WAL: a new file takes auto_vacuum only until its header is written.
            _reclaimable(raw)
            raw.execute("PRAGMA journal_mode = WAL")
            # FULL: a callback is acknowledged only after its delivery is on disk.
            raw.execute("PRAGMA synchronous = FULL")
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA busy_timeout = 30000")
            self._local.raw = raw
            with self._lock:
                self._all.append(raw)
        return raw

    def reclaim_space(self) -> None:
        """Give the pages that deletes freed back to the file system, a few at a time.

        Each step holds the write lock for a few milliseconds (1 MB of pages), so a purge
        of millions of rows never keeps a callback waiting.
        """
        raw = self._connection()
        for _ in range(100_000):
            if raw.execute("PRAGMA freelist_count").fetchone()["freelist_count"] == 0:
                return
            self._vacuum_step(raw)

    def _vacuum_step(self, raw: sqlite3.Connection) -> None:
        # executescript steps the pragma to its end; execute() would free one page.
        raw.executescript(_VACUUM_SCRIPT)

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


#: Pages freed per step of reclaim_space (4 KiB each).
_VACUUM_STEP = 250
_VACUUM_SCRIPT = f"BEGIN IMMEDIATE; PRAGMA incremental_vacuum({_VACUUM_STEP}); COMMIT;"


def _reclaimable(raw: sqlite3.Connection) -> None:
    """Make the file one whose freed pages can be given back (auto_vacuum = INCREMENTAL).

    A new file only needs the pragma before its first table; a file made before this setting
    is rewritten once by VACUUM, at start-up, before anything is served.
    """
    if raw.execute("PRAGMA auto_vacuum").fetchone()["auto_vacuum"] == _INCREMENTAL:
        return
    raw.execute("PRAGMA auto_vacuum = INCREMENTAL")
    if raw.execute("SELECT count(*) AS n FROM sqlite_master").fetchone()["n"]:
        log.info("store.sqlite_vacuum", reason="turning on incremental auto-vacuum, once")
        raw.execute("VACUUM")


_INCREMENTAL = 2

#: The default database's directory (``sqlite:///var/receiver.db``): the one directory made
#: when missing, so that a first ``receiver serve`` in a checkout just works. Any other
#: missing directory is more likely a typo (or a relative path meant to be absolute) than a
#: wish, and a database made there would be one nobody looks at.
_DEFAULT_DIRECTORY = Path("var")


def path_of(url: str) -> Path:
    """The file of ``sqlite:///PATH`` (``sqlite:////abs/path``: four slashes, absolute)."""
    return Path(url.removeprefix("sqlite:///"))


def _where(path: Path) -> str:
    if path.is_absolute():
        return str(path)
    return f"{path} (relative to {Path.cwd()}; sqlite:////absolute/path takes four slashes)"


def _check_directory(path: Path) -> None:
    directory = path.parent
    if directory.is_dir():
        return
    if directory == _DEFAULT_DIRECTORY:
        directory.mkdir(exist_ok=True)
        return
    raise ConfigError(
        "RECEIVER_DATABASE_URL",
        f"the directory of the SQLite database {_where(path)} does not exist: create it, "
        "or correct the path",
    )


def require_file(url: str) -> None:
    """Refuse a ``sqlite:///`` URL whose file does not exist (see ``require_database``)."""
    path = path_of(url)
    if not path.is_file():
        raise ConfigError(
            "RECEIVER_DATABASE_URL",
            f"there is no database at {_where(path)}, and this command only reads one: point "
            "RECEIVER_DATABASE_URL at the receiver's database (the services' environment; "
            "after `receiver dev`: source var/dev/env)",
        )


def _dict_row(cursor: sqlite3.Cursor, values: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, values, strict=True)}
